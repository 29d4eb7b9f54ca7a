import { describe, expect, it } from 'vitest';
import { classifyUpdateResponse, solrErrorMessage } from './update-response.js';

const solrError = (status: number, msg: string) => JSON.stringify({ responseHeader: { status, QTime: 1 }, error: { msg, code: status } });

describe('classifyUpdateResponse', () => {
  it('reads the tolerant chain errors of a 200 by document id', () => {
    // As Solr 9.10 answers with update.chain=tolerant (from the integration run).
    const body = JSON.stringify({
      responseHeader: {
        errors: [{ type: 'ADD', id: 'b', message: "ERROR: [doc=b] Error adding field 'x_l'='many' msg=For input string: \"many\"" }],
        maxErrors: -1,
        status: 0,
      },
    });
    const verdict = classifyUpdateResponse(200, body);
    expect(verdict.kind).toBe('done');
    expect(verdict.kind === 'done' && [...verdict.failed]).toEqual([
      ['b', "400 ADD: ERROR: [doc=b] Error adding field 'x_l'='many' msg=For input string: \"many\""],
    ]);
    expect(classifyUpdateResponse(200, '{"responseHeader":{"status":0,"QTime":3}}')).toEqual({ kind: 'done', failed: new Map() });
  });

  it('names the refused document of a 400, or splits when it names none', () => {
    expect(classifyUpdateResponse(400, solrError(400, "ERROR: [doc=e] Error adding field 'x_l'='many'"))).toEqual({
      kind: 'bad_document',
      id: 'e',
      reason: "400 ERROR: [doc=e] Error adding field 'x_l'='many'",
    });
    expect(classifyUpdateResponse(400, solrError(400, 'Document is missing mandatory uniqueKey field: id')).kind).toBe('split');
    expect(classifyUpdateResponse(413, '<html>Request Entity Too Large</html>')).toEqual({
      kind: 'split',
      reason: 'HTTP 413 <html>Request Entity Too Large</html>',
    });
    expect(classifyUpdateResponse(400, solrError(400, 'unknown UpdateRequestProcessorChain: tolerant')).kind).toBe('no_chain');
  });

  it('retries what may pass later, blocked for credentials and missing collections', () => {
    expect(classifyUpdateResponse(503, solrError(503, 'overloaded'))).toEqual({ kind: 'retry', reason: '503 overloaded', blocked: false });
    expect(classifyUpdateResponse(429, '')).toEqual({ kind: 'retry', reason: 'HTTP 429', blocked: false });
    expect(classifyUpdateResponse(408, '').kind).toBe('retry');
    expect(classifyUpdateResponse(401, solrError(401, 'require authentication'))).toMatchObject({ kind: 'retry', blocked: true });
    expect(classifyUpdateResponse(404, '<html>Not Found</html>')).toMatchObject({ kind: 'retry', blocked: true });
    // A 200 that is not Solr's (a proxy's page): sent again.
    expect(classifyUpdateResponse(200, '<html>ok</html>').kind).toBe('retry');
  });

  it("words the security plugins' refusals by Jetty's error page, JSON or HTML", () => {
    const json =
      '{\n  "servlet":"org.apache.solr.embedded.JettySolrRunner$Servlet404-1",\n  "message":"Bad credentials",\n  "url":"/solr/c/update",\n  "status":"401"\n}';
    expect(solrErrorMessage(401, json)).toBe('401 Bad credentials');
    const html = '<html><head><title>Error 403 Unauthorized request, Response code: 403</title></head><body>…</body></html>';
    expect(solrErrorMessage(403, html)).toBe('403 Unauthorized request, Response code: 403');
    expect(solrErrorMessage(502, '<html><body>Bad Gateway</body></html>')).toBe('HTTP 502 <html><body>Bad Gateway</body></html>');
  });

  it('keeps error messages to one line', () => {
    expect(solrErrorMessage(500, solrError(500, 'line one\n\tat x.y(Z.java:1)'))).toBe('500 line one at x.y(Z.java:1)');
  });
});

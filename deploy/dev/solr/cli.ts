/**
 * Runs a local Solr 9 until interrupted:
 *
 *   node dist/deploy/dev/solr/cli.js [--port N] [--heap-mb N] [--solr-version V] [--cores a,b] [--secure]
 *
 * Prints `SOLR_URL=http://127.0.0.1:PORT/solr` on stdout once every core
 * answers queries, so a script can `read` it or `eval` it; everything else
 * (progress, server warnings) goes to stderr. With --secure the URL is https
 * and more `NAME=value` lines follow (shell-safe values, so `eval` works): the
 * CA file and the three per-run users (admin, the writer the Solr output
 * needs, a reader). SIGINT/SIGTERM stop the server, remove its temp dir
 * (certificates included) and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalSolr, type LocalSolr, type LocalSolrOptions } from './local-solr.js';

function readyLines(solr: LocalSolr): string {
  const lines = [`SOLR_URL=${solr.url}`];
  const security = solr.security;
  if (security) {
    lines.push(`SOLR_CA_FILE=${security.caFile}`);
    for (const [name, user] of [
      ['ADMIN', security.admin],
      ['WRITER', security.writer],
      ['READER', security.reader],
    ] as const) {
      lines.push(`SOLR_${name}_USERNAME=${user.username}`, `SOLR_${name}_PASSWORD=${user.password}`);
    }
  }
  return lines.join('\n');
}

runDevServerCli({
  name: 'Solr',
  usage: 'usage: cli.js [--port N] [--heap-mb N] [--solr-version V] [--cores a,b] [--secure] (default core: tributary)',
  options: ['port', 'heap-mb', 'solr-version', 'cores'],
  flags: ['secure'],
  parse: (values): LocalSolrOptions => ({
    port: intOption('port', values.port, 0, 65_535),
    // 256 MiB starts and indexes; 512 (the default) leaves room for bulk updates.
    heapMb: intOption('heap-mb', values['heap-mb'], 256, 65_536),
    solrVersion: values['solr-version'],
    cores: values.cores?.split(',').filter((core) => core !== ''),
    secure: values.secure === 'true',
  }),
  describe: (options) => `Solr ${options.solrVersion ?? process.env.SOLR_VERSION ?? '9.10.1'}${options.secure ? ' (HTTPS, basic auth)' : ''}`,
  start: (options, onLog) => startLocalSolr({ ...options, onLog }),
  readyLine: readyLines,
});

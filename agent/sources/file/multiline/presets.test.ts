import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../../shared/paths.js';
import type { LineRecord } from '../line-stage.js';
import { LineSplitter } from '../line-splitter.js';
import { multilineSchema, type MultilinePreset } from './config.js';
import { MultilineStage } from './multiline-stage.js';

/** Runs text through the real line splitter and a preset, then ends the file. */
function aggregate(preset: MultilinePreset, text: string): LineRecord[] {
  const lines = new LineSplitter(256 * 1024).push(Buffer.from(text), 0);
  const stage = new MultilineStage(multilineSchema.parse({ preset }));
  return [...stage.push(lines, 0), ...stage.flushAll()];
}

function textsOf(records: readonly LineRecord[]): string[] {
  return records.map((record) => record.text);
}

/** Joins lines into file content ending with a newline. */
function file(...blocks: readonly (readonly string[])[]): string {
  return `${blocks.flat().join('\n')}\n`;
}

describe('java preset', () => {
  const trace = [
    '2024-05-01 12:00:00.123 ERROR [http-nio-8080-exec-1] c.e.o.OrderController - Order 42 failed',
    'java.lang.IllegalStateException: Could not process order 42',
    '\tat com.example.orders.OrderService.process(OrderService.java:57)',
    '\tat com.example.orders.OrderController.create(OrderController.java:31)',
    '\tat java.base/java.lang.Thread.run(Thread.java:833)',
    '\tSuppressed: java.io.IOException: close failed',
    '\t\tat com.example.orders.OrderRepository.close(OrderRepository.java:40)',
    '\t\t... 1 more',
    'Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.',
    '\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)',
    '\tat com.example.orders.OrderRepository.save(OrderRepository.java:22)',
    '\t... 12 more',
    'Caused by: java.net.SocketTimeoutException: Read timed out',
    '\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)',
    '\t... 27 common frames omitted',
  ];
  const next = '2024-05-01 12:00:00.200 INFO  [main] c.e.o.OrderController - Order 43 created';

  it('joins the log line, the exception, its frames, causes, suppressed exceptions and "... N more"', () => {
    const records = aggregate('java', file(trace, [next]));
    expect(textsOf(records)).toEqual([trace.join('\n'), next]);
    expect(records[0]?.offset).toBe(0);
    expect(records[1]?.offset).toBe(records[0]?.end);
  });

  it('keeps two stack traces printed back to back apart', () => {
    const first = ['java.lang.NullPointerException', '\tat a.B.c(B.java:1)'];
    const second = ['Exception in thread "worker-2" java.lang.OutOfMemoryError: Java heap space', '\tat a.B.d(B.java:2)'];
    expect(textsOf(aggregate('java', file(first, second)))).toEqual([first.join('\n'), second.join('\n')]);
  });

  it('joins an exception header only to a single plain line, not to another header', () => {
    const input = file([
      '10:00 WARN retrying',
      'java.io.IOException: reset',
      'java.io.IOException: reset again',
      '10:01 INFO Recovered from java.io.IOException: reset',
    ]);
    expect(textsOf(aggregate('java', input))).toEqual([
      '10:00 WARN retrying\njava.io.IOException: reset',
      'java.io.IOException: reset again',
      '10:01 INFO Recovered from java.io.IOException: reset',
    ]);
  });
});

describe('python preset', () => {
  const chained = [
    '2024-05-01 12:00:00,123 ERROR app: request failed',
    'Traceback (most recent call last):',
    '  File "/app/handler.py", line 12, in handle',
    '    value = int(body)',
    '            ^^^^^^^^^',
    "ValueError: invalid literal for int() with base 10: 'abc'",
    '',
    'During handling of the above exception, another exception occurred:',
    '',
    'Traceback (most recent call last):',
    '  File "/app/handler.py", line 14, in handle',
    '    raise BadRequest("not a number") from exc',
    'app.errors.BadRequest: not a number',
    '',
    'The above exception was the direct cause of the following exception:',
    '',
    'Traceback (most recent call last):',
    '  File "/app/server.py", line 88, in dispatch',
    '    response = handler(request)',
    '  File "/app/handler.py", line 16, in handle',
    '    raise HTTPError(400) from err',
    'app.errors.HTTPError: 400',
  ];
  const next = '2024-05-01 12:00:00,200 INFO app: next request';

  it('joins a chained traceback, with the blank lines and sentences between its parts, to its log line', () => {
    const records = aggregate('python', file(chained, [next]));
    expect(textsOf(records)).toEqual([chained.join('\n'), next]);
  });

  it('leaves blank lines after a traceback out of it when no chained exception follows', () => {
    const traceback = ['Traceback (most recent call last):', '  File "job.py", line 3, in <module>', '    main()', 'KeyboardInterrupt'];
    const records = aggregate('python', file(traceback, ['', '', next]));
    expect(textsOf(records)).toEqual([traceback.join('\n'), '', '', next]);
    // The traceback ends at its last line: a checkpoint there re-reads the blank lines, not skips them.
    expect(records[0]?.end).toBe(Buffer.byteLength(file(traceback)));
  });

  it('joins an exception group traceback, whose lines are all indented', () => {
    const group = [
      '  + Exception Group Traceback (most recent call last):',
      '  |   File "tasks.py", line 9, in <module>',
      '  |     raise ExceptionGroup("many", errors)',
      '  | ExceptionGroup: many (2 sub-exceptions)',
      '  +-+---------------- 1 ----------------',
      '    | ValueError: 1',
      '    +---------------- 2 ----------------',
      '    | TypeError: 2',
      '    +------------------------------------',
    ];
    expect(textsOf(aggregate('python', file(['ERROR tasks failed'], group, [next])))).toEqual([['ERROR tasks failed', ...group].join('\n'), next]);
  });
});

describe('go preset', () => {
  const panic = [
    'panic: runtime error: invalid memory address or nil pointer dereference',
    '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5c3e]',
    '',
    'goroutine 34 [running]:',
    'main.(*Server).handle(0x0, {0x5d2f40, 0xc00001c0e0})',
    '\t/app/server.go:42 +0x1e',
    'created by main.(*Server).Serve in goroutine 1',
    '\t/app/server.go:30 +0x65',
    '',
    'goroutine 1 [chan receive]:',
    'main.main()',
    '\t/app/main.go:18 +0x9c',
    'exit status 2',
  ];

  it('joins a panic with two goroutine blocks up to "exit status"', () => {
    const input = file(['2024/05/01 12:00:00 serving on :8080'], panic, ['2024/05/01 12:00:05 serving on :8080']);
    expect(textsOf(aggregate('go', input))).toEqual(['2024/05/01 12:00:00 serving on :8080', panic.join('\n'), '2024/05/01 12:00:05 serving on :8080']);
  });

  it('joins a fatal error and a recovered, re-raised panic', () => {
    const deadlock = ['fatal error: all goroutines are asleep - deadlock!', '', 'goroutine 1 [chan receive]:', 'main.main()', '\t/app/main.go:5 +0x2d'];
    const repanic = [
      'panic: first [recovered]',
      '\tpanic: second',
      '',
      'goroutine 1 [running]:',
      'panic({0x4a0f20?, 0x5563b0?})',
      '\t/usr/local/go/src/runtime/panic.go:770 +0x132',
      'main.main.func1()',
      '\t/app/main.go:9 +0x25',
      '...additional frames elided...',
    ];
    expect(textsOf(aggregate('go', file(deadlock, repanic, ['after'])))).toEqual([deadlock.join('\n'), repanic.join('\n'), 'after']);
  });

  it('hands back the blank lines after the last goroutine block', () => {
    const short = ['panic: boom', '', 'goroutine 1 [running]:', 'main.main()', '\t/app/main.go:8 +0x25'];
    expect(textsOf(aggregate('go', file(short, ['', 'restarted (pid 42)'])))).toEqual([short.join('\n'), '', 'restarted (pid 42)']);
  });
});

/**
 * Loghub's Hadoop and Spark samples (CRLF line ends) hold no stack traces:
 * every line starts with the log's timestamp, and the Hadoop lines naming an
 * exception carry it inside the message. So the java preset must leave each
 * line a record of its own, and the expected count is the number of lines
 * starting with the timestamp, counted here with a plain regex and no stage.
 */
describe('java preset on loghub samples', () => {
  const corpus = (name: string): string => readFileSync(join(packageRoot(), '..', 'shared', 'corpus', 'loghub', name), 'utf8');
  // Hadoop_2k.log lacks a final newline; a writer would add it with its next line, the splitter waits for it.
  const complete = (text: string): string => (text.endsWith('\n') ? text : `${text}\n`);
  const countStarts = (text: string, timestamp: RegExp): number => text.split(/\r?\n/).filter((line) => timestamp.test(line)).length;

  it.each([
    ['Hadoop_2k.log', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ /],
    ['Spark_2k.log', /^\d{2}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} [A-Z]+ /],
  ])('%s: one record per timestamped line', (name, timestamp) => {
    const text = complete(corpus(name));
    const expected = countStarts(text, timestamp);
    expect(expected).toBe(2000);
    const records = aggregate('java', text);
    expect(records).toHaveLength(expected);
    expect(records.every((record) => timestamp.test(record.text) && !record.text.includes('\n'))).toBe(true);
  });

  it('Hadoop_2k.log with a stack trace spliced after its FATAL line: that line and the trace become one record', () => {
    const lines = corpus('Hadoop_2k.log')
      .replace(/\r?\n$/, '')
      .split(/\r?\n/);
    const fatal = lines.findIndex((line) => line.includes(' FATAL ') && line.includes('NoRouteToHostException'));
    expect(fatal).toBeGreaterThan(0);
    const trace = [
      'java.net.NoRouteToHostException: No Route to Host from  MININT-FNANLI5/127.0.0.1 to msra-sa-41:9000 failed on socket timeout exception',
      '\tat sun.reflect.NativeConstructorAccessorImpl.newInstance0(Native Method)',
      '\tat org.apache.hadoop.net.NetUtils.wrapException(NetUtils.java:791)',
      '\tat org.apache.hadoop.ipc.Client.call(Client.java:1472)',
      'Caused by: java.net.NoRouteToHostException: No route to host: no further information',
      '\tat sun.nio.ch.SocketChannelImpl.checkConnect(Native Method)',
      '\tat org.apache.hadoop.net.SocketIOWithTimeout.connect(SocketIOWithTimeout.java:206)',
      '\t... 14 more',
    ];
    lines.splice(fatal + 1, 0, ...trace);
    const records = aggregate('java', file(lines));
    // The spliced lines carry no timestamp, so the count of timestamped lines still holds.
    expect(records).toHaveLength(2000);
    expect(records[fatal]?.text.split('\n')).toEqual([lines[fatal], ...trace]);
  });
});

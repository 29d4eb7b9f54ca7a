import { compilePattern, type MultilineConfig, type MultilinePreset } from './config.js';

/**
 * Multiline rules are a small state machine, in the manner of Fluent Bit's
 * multiline parsers and Google's fluent-plugin-detect-exceptions: the pending
 * record carries a state, and a line continues the record when a rule for that
 * state matches it. A line no rule continues ends the record and starts the
 * next one, in the state of the first start rule that matches it (or
 * `defaultState`). A state with no continuation rules ends its record at once,
 * so lines nothing could continue are not held until the flush timeout.
 *
 * Each rule is one short regex; a preset is a handful of them, readable and
 * testable one by one, instead of one pattern nobody can review.
 */
export interface ContinuationRule {
  /** States of the pending record in which the rule is tried, in rule order. */
  readonly from: readonly string[];
  readonly pattern: RegExp;
  /** The rule applies when the line does NOT match (Filebeat's `negate: true`). */
  readonly negate?: boolean;
  /** State of the record after this line. */
  readonly to: string;
  /**
   * The line belongs to the record only if a later line continues it too (the
   * blank lines between chained Python tracebacks or Go goroutine blocks). If
   * the record ends instead, tentative lines are handed back and start records
   * of their own, exactly as they would when re-read after a checkpoint at
   * the record's end.
   */
  readonly tentative?: boolean;
}

export interface StartRule {
  readonly pattern: RegExp;
  /** State of the record this line starts. */
  readonly state: string;
}

export interface MultilineRules {
  readonly starts: readonly StartRule[];
  /** State of a record started by a line no start rule matched. */
  readonly defaultState: string;
  readonly continuations: readonly ContinuationRule[];
}

const BLANK = /^$/;

// ---------------------------------------------------------------------------
// Java (and JVM languages): Throwable.printStackTrace as logback/log4j write it.
//
//   2024-05-01 12:00:00.123 ERROR [http-nio-8080-exec-1] c.e.o.OrderController - Order 42 failed
//   java.lang.IllegalStateException: Could not process order 42
//   	at com.example.orders.OrderService.process(OrderService.java:57)
//   	at java.base/java.lang.Thread.run(Thread.java:833)
//   	Suppressed: java.io.IOException: close failed
//   		at com.example.orders.OrderRepository.close(OrderRepository.java:40)
//   		... 1 more
//   Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
//   	at com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
//   	... 12 more
//
// Frames, `... N more` and `Caused by:` / `Suppressed:` continue whatever
// record precedes them. The exception header itself (a class name ending in
// Exception, Error or Throwable, at the start of the line) joins the record
// only when that record is a single plain line: loggers print the message
// line and then the throwable on the next line, and that pair is the record
// users want. After frames, a header starts a new record: two stack traces
// printed back to back stay apart.
//
// Not covered: exception messages spanning several lines (only the header's
// first line is recognised) and jstack thread dumps.
// ---------------------------------------------------------------------------
const JAVA_HEADER = /^(?:Exception in thread "[^"]*" )?(?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*(?:Exception|Error|Throwable)(?::|$)/;
const JAVA_FRAME = /^\s+at /;
const JAVA_MORE = /^\s*\.\.\. \d+ (?:more|common frames omitted)/;
const JAVA_CAUSE = /^\s*(?:Caused by|Suppressed):/;
const JAVA_ALL = ['line', 'exception', 'frames'];

const JAVA: MultilineRules = {
  starts: [{ pattern: JAVA_HEADER, state: 'exception' }],
  defaultState: 'line',
  continuations: [
    { from: ['line'], pattern: JAVA_HEADER, to: 'exception' },
    { from: JAVA_ALL, pattern: JAVA_FRAME, to: 'frames' },
    { from: JAVA_ALL, pattern: JAVA_MORE, to: 'frames' },
    { from: JAVA_ALL, pattern: JAVA_CAUSE, to: 'exception' },
  ],
};

// ---------------------------------------------------------------------------
// Python: tracebacks as `logging.exception` or an uncaught exception print them.
//
//   2024-05-01 12:00:00,123 ERROR app: request failed
//   Traceback (most recent call last):
//     File "/app/handler.py", line 12, in handle
//       value = int(body)
//               ^^^^^^^^^
//   ValueError: invalid literal for int() with base 10: 'abc'
//
//   During handling of the above exception, another exception occurred:
//
//   Traceback (most recent call last):
//     File "/app/handler.py", line 14, in handle
//       raise BadRequest("not a number") from None
//   app.errors.BadRequest: not a number
//
// Inside a traceback every indented line (`File` lines, source lines, carets,
// the `|` lines of exception groups) continues it, and the first unindented
// line that looks like `module.ExceptionName: message` (or a bare name) is its
// last line. Blank lines after it are tentative: they belong to the record
// only if a chaining sentence follows, which leads to the next traceback.
// As with Java, a traceback joins a single plain line before it (the message
// of `logging.exception`).
//
// Not covered: exception messages spanning several lines (only the first is
// kept in the record) and notes added with `add_note`.
// ---------------------------------------------------------------------------
const PY_TRACEBACK = /^(?:Traceback|\s*\+ Exception Group Traceback) \(most recent call last\):$/;
const PY_INDENTED = /^[ \t]/;
const PY_EXCEPTION = /^[A-Za-z_][\w.]*(?::|$)/;
const PY_CHAINED =
  /^(?:During handling of the above exception, another exception occurred|The above exception was the direct cause of the following exception):$/;

const PYTHON: MultilineRules = {
  starts: [{ pattern: PY_TRACEBACK, state: 'traceback' }],
  defaultState: 'line',
  continuations: [
    { from: ['line', 'chained'], pattern: PY_TRACEBACK, to: 'traceback' },
    { from: ['traceback'], pattern: PY_INDENTED, to: 'traceback' },
    { from: ['traceback'], pattern: PY_EXCEPTION, to: 'exception' },
    // An exception group ends on an indented line, so blank lines may follow `traceback` directly.
    { from: ['traceback', 'exception', 'gap'], pattern: BLANK, to: 'gap', tentative: true },
    { from: ['gap'], pattern: PY_CHAINED, to: 'chained' },
    { from: ['chained'], pattern: BLANK, to: 'chained' },
  ],
};

// ---------------------------------------------------------------------------
// Go: the runtime's panic and fatal-error output on stderr.
//
//   panic: runtime error: invalid memory address or nil pointer dereference
//   [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5c3e]
//
//   goroutine 34 [running]:
//   main.(*Server).handle(0x0, {0x5d2f40, 0xc00001c0e0})
//   	/app/server.go:42 +0x1e
//   created by main.(*Server).Serve in goroutine 1
//   	/app/server.go:30 +0x65
//
//   goroutine 1 [chan receive]:
//   main.main()
//   	/app/main.go:18 +0x9c
//   exit status 2
//
// After the `panic:` / `fatal error:` line (or a `SIGQUIT: quit` dump) come
// `[signal …]` and tab-indented nested panics, then blocks headed by
// `goroutine N [state]:` (or `runtime stack:`) holding function lines and
// tab-indented file:line lines. Blank lines are tentative: they belong to the
// record only if another block follows. `exit status N`, printed by `go run`,
// ends the record. Lines outside a panic can never be continued, so they are
// emitted at once rather than waiting for the flush timeout.
//
// Not covered: panic values spanning several lines, register dumps of
// GOTRACEBACK=crash.
// ---------------------------------------------------------------------------
const GO_START = /^(?:panic: |fatal error: |SIG[A-Z]+: )/;
const GO_PANIC_DETAIL = /^(?:\[signal |\t|PC=)/;
const GO_BLOCK_HEADER = /^(?:goroutine \d+(?: [^[]*)? \[.*\]:|runtime stack:)$/;
// `main.main()`, `net/http.(*conn).serve(0xc000128000, {0x6d3e28, 0xc0000a4e70})`, `panic({0x4a0f20?, 0x5563b0?})`:
// no whitespace before the first "(", which tells them apart from ordinary log lines ending in ")". `[^\s(]+`
// cannot backtrack into a "(", so a long line full of parentheses costs linear time, not quadratic.
const GO_FUNCTION = /^[^\s(]+\(.*\)$/;
const GO_FRAME_DETAIL = /^(?:\t|created by \S|\.\.\.additional frames elided\.\.\.$)/;
const GO_EXIT = /^exit status \d+$/;

const GO: MultilineRules = {
  starts: [{ pattern: GO_START, state: 'panic' }],
  defaultState: 'line',
  continuations: [
    { from: ['panic'], pattern: GO_PANIC_DETAIL, to: 'panic' },
    { from: ['panic', 'frames', 'gap'], pattern: BLANK, to: 'gap', tentative: true },
    { from: ['panic', 'gap'], pattern: GO_BLOCK_HEADER, to: 'frames' },
    { from: ['frames'], pattern: GO_FUNCTION, to: 'frames' },
    { from: ['frames'], pattern: GO_FRAME_DETAIL, to: 'frames' },
    { from: ['frames'], pattern: GO_EXIT, to: 'exited' },
  ],
};

export const PRESETS: Readonly<Record<MultilinePreset, MultilineRules>> = { java: JAVA, python: PYTHON, go: GO };

/** The rules a validated config asks for. */
export function multilineRules(config: MultilineConfig): MultilineRules {
  if (config.preset !== undefined) return PRESETS[config.preset];
  switch (config.mode) {
    case 'indented':
      return singleState(/^[ \t]/, false);
    case 'start_pattern':
      return singleState(compilePattern(requirePattern(config)), true);
    case 'continuation_pattern':
      return singleState(compilePattern(requirePattern(config)), false);
    case undefined:
      throw new TypeError('multiline config has neither preset nor mode; validate it with multilineSchema first');
  }
}

/** The three modes need one state: a line continues the record when it matches (or, negated, when it does not). */
function singleState(pattern: RegExp, negate: boolean): MultilineRules {
  return { starts: [], defaultState: 'record', continuations: [{ from: ['record'], pattern, negate, to: 'record' }] };
}

function requirePattern(config: MultilineConfig): string {
  if (config.pattern === undefined)
    throw new TypeError(`multiline mode "${String(config.mode)}" needs a pattern; validate the config with multilineSchema first`);
  return config.pattern;
}

/**
 * Node flags the long-running processes are meant to run with; the `tributary`
 * bin's shebang passes them, and tests and benchmarks spawn the CLI with them
 * so they measure what is deployed.
 *
 * --max-semi-space-size=4: V8's default young generation (16 MiB semi-spaces on
 * 64-bit) lets a busy agent's heap balloon by tens of MiB between scavenges. At
 * 4 MiB the tail benchmark shows the same throughput and about 25 MiB less
 * peak RSS (bench/results/tail-throughput.ndjson). It cannot be changed once
 * the process runs, hence a flag rather than code.
 */
export const PROCESS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

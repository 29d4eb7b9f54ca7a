/**
 * The long fuzz run: every input boundary (one `*.property.test.ts` file) gets the same wall-clock budget,
 * shared among the properties it runs, `FUZZ_STREAMS` files at a time.
 *
 *   npm run fuzz:boundaries                                  # 600 s per boundary, 2 streams
 *   TRIBUTARY_FUZZ_BOUNDARY_SECONDS=60 npm run fuzz:boundaries
 *
 * A boundary's properties are counted by running its file once for one second each (the `[fuzz] … seed`
 * lines `boundary-contract.ts` prints), so `describe.each` over ten parsers counts as ten. Every `[fuzz]` line
 * is printed and the summary (cases, slowest input in CPU ms, peak RSS per property) is appended to
 * `bench/results/fuzz.ndjson`. Exit 1 when any boundary failed; its seed is in the output for a replay with
 * `TRIBUTARY_FUZZ_SEED`.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdir, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { packageRoot } from '../shared/paths.js';

const ROOT = packageRoot();
const BOUNDARY_SECONDS = Number(process.env.TRIBUTARY_FUZZ_BOUNDARY_SECONDS ?? '600');
const STREAMS = Math.max(1, Number(process.env.FUZZ_STREAMS ?? '2'));
const TIERS = ['cli', 'agent', 'collector', 'shared'];

interface PropertyReport {
  boundary: string;
  property: string;
  cases: number;
  boundaryCalls: number;
  slowestCpuMs: number;
  peakRssMiB: number;
}

interface FileRun {
  ok: boolean;
  output: string;
}

async function propertyFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') found.push(...(await propertyFiles(path)));
    else if (entry.isFile() && entry.name.endsWith('.property.test.ts')) found.push(path);
  }
  return found;
}

function runFile(file: string, seconds: number): Promise<FileRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['vitest', 'run', '--project', 'unit', relative(ROOT, file)], {
      cwd: ROOT,
      env: { ...process.env, TRIBUTARY_FUZZ_SECONDS: String(seconds) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

const SUMMARY = /^\[fuzz\] (.+): (\d+) cases, (\d+) boundary calls, slowest ([\d.]+) ms CPU, peak RSS (\d+) MiB$/;

function reportsOf(boundary: string, output: string): PropertyReport[] {
  const reports: PropertyReport[] = [];
  for (const line of output.split('\n')) {
    const match = SUMMARY.exec(line.trim());
    if (!match) continue;
    reports.push({
      boundary,
      property: match[1] ?? '',
      cases: Number(match[2]),
      boundaryCalls: Number(match[3]),
      slowestCpuMs: Number(match[4]),
      peakRssMiB: Number(match[5]),
    });
  }
  return reports;
}

async function main(): Promise<void> {
  const files = (await Promise.all(TIERS.map((tier) => propertyFiles(join(ROOT, tier))))).flat().sort();
  // One second per property to count them: cheap next to the budget, and exact whatever the file's shape.
  const plan: { file: string; seconds: number; properties: number }[] = [];
  for (const file of files) {
    const { output } = await runFile(file, 1);
    const properties = output.split('\n').filter((line) => /^\[fuzz\] .+: seed \d+/.test(line.trim())).length;
    plan.push({ file, properties, seconds: Math.max(1, Math.floor(BOUNDARY_SECONDS / Math.max(1, properties))) });
  }
  process.stdout.write(`fuzzing ${plan.length} boundaries, ${BOUNDARY_SECONDS} s each, ${STREAMS} at a time\n`);
  const startedAt = new Date().toISOString();
  const reports: PropertyReport[] = [];
  const failed: string[] = [];
  const queue = [...plan];
  await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const boundary = relative(ROOT, next.file);
        const run = await runFile(next.file, next.seconds);
        const found = reportsOf(boundary, run.output);
        reports.push(...found);
        for (const report of found) {
          process.stdout.write(
            `${boundary} — ${report.property}: ${report.cases} cases, slowest ${report.slowestCpuMs} ms CPU, peak RSS ${report.peakRssMiB} MiB\n`,
          );
        }
        if (!run.ok) {
          failed.push(boundary);
          process.stdout.write(`FAILED ${boundary}\n${run.output}\n`);
        }
      }
    }),
  );
  const totalCases = reports.reduce((sum, report) => sum + report.cases, 0);
  const slowest = reports.reduce((max, report) => Math.max(max, report.slowestCpuMs), 0);
  const peakRss = reports.reduce((max, report) => Math.max(max, report.peakRssMiB), 0);
  process.stdout.write(
    `\n${plan.length} boundaries, ${reports.length} properties, ${totalCases} cases; slowest input ${slowest} ms CPU; peak RSS ${peakRss} MiB; failed: ${failed.length === 0 ? 'none' : failed.join(', ')}\n`,
  );
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await appendFile(
    join(ROOT, 'bench', 'results', 'fuzz.ndjson'),
    `${JSON.stringify({ startedAt, boundarySeconds: BOUNDARY_SECONDS, streams: STREAMS, boundaries: plan.length, totalCases, slowestCpuMs: slowest, peakRssMiB: peakRss, failed, reports })}\n`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

await main();

/**
 * Runs a local HDFS (namenode + datanode with WebHDFS) until interrupted:
 *
 *   node dist/deploy/dev/hdfs/cli.js [--heap-mb N] [--hadoop-version V] [--secure]
 *
 * Prints `HDFS_NAMENODE_URL=http://127.0.0.1:PORT` on stdout once the cluster
 * accepts writes, so a script can `read` it or `eval` it (with --secure: an
 * https URL, then `HDFS_CA_FILE=…`, the CA a client trusts);
 * everything else (progress, server warnings) goes to stderr. SIGINT/SIGTERM
 * stop the cluster, remove its temp dir and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalHdfs, type LocalHdfs, type LocalHdfsOptions } from './local-hdfs.js';

function readyLines(cluster: LocalHdfs): string {
  return [`HDFS_NAMENODE_URL=${cluster.namenodeUrl}`, ...(cluster.caFile === undefined ? [] : [`HDFS_CA_FILE=${cluster.caFile}`])].join('\n');
}

runDevServerCli({
  name: 'HDFS',
  usage: 'usage: cli.js [--heap-mb N] [--hadoop-version V] [--secure]',
  options: ['heap-mb', 'hadoop-version'],
  flags: ['secure'],
  parse: (values): LocalHdfsOptions => ({
    heapMb: intOption('heap-mb', values['heap-mb'], 256, 65_536),
    hadoopVersion: values['hadoop-version'],
    secure: values.secure === 'true',
  }),
  describe: (options) =>
    `HDFS (hadoop-client-minicluster ${options.hadoopVersion ?? process.env.HADOOP_VERSION ?? '3.5.0'})${options.secure ? ' with HTTPS-only WebHDFS' : ''}`,
  start: (options, onLog) => startLocalHdfs({ ...options, onLog }),
  readyLine: readyLines,
});

/**
 * Runs a local HDFS (namenode + datanode with WebHDFS) until interrupted:
 *
 *   node dist/deploy/dev/hdfs/cli.js [--heap-mb N] [--hadoop-version V]
 *
 * Prints exactly one line on stdout, `HDFS_NAMENODE_URL=http://127.0.0.1:PORT`,
 * once the cluster accepts writes, so a script can `read` it or `eval` it;
 * everything else (progress, server warnings) goes to stderr. SIGINT/SIGTERM
 * stop the cluster, remove its temp dir and exit 0.
 */
import { intOption, runDevServerCli } from '../jvm/server-cli.js';
import { startLocalHdfs, type LocalHdfsOptions } from './local-hdfs.js';

runDevServerCli({
  name: 'HDFS',
  usage: 'usage: cli.js [--heap-mb N] [--hadoop-version V]',
  options: ['heap-mb', 'hadoop-version'],
  parse: (values): LocalHdfsOptions => ({
    heapMb: intOption('heap-mb', values['heap-mb'], 256, 65_536),
    hadoopVersion: values['hadoop-version'],
  }),
  describe: (options) => `HDFS (hadoop-client-minicluster ${options.hadoopVersion ?? process.env.HADOOP_VERSION ?? '3.5.0'})`,
  start: (options, onLog) => startLocalHdfs({ ...options, onLog }),
  readyLine: (cluster) => `HDFS_NAMENODE_URL=${cluster.namenodeUrl}`,
});

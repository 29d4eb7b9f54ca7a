/**
 * ACLs on a local broker started with `authorizer: true`, created and deleted through its PLAINTEXT listener
 * (whose principal is a super user there) with the admin API, as an operator's `kafka-acls.sh` would.
 *
 *   await grantAcls(kafka.brokers, [{ principal: 'User:agent', resource: 'topic', name: 'raw', operation: 'write' }]);
 */
import kafkajs, { type AclEntry } from 'kafkajs';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = kafkajs;

export type AclResource = 'topic' | 'group' | 'cluster' | 'transactional_id';
export type AclOperation = 'read' | 'write' | 'create' | 'delete' | 'describe' | 'describe_configs' | 'idempotent_write';

/** One ALLOW rule for one principal from any host. */
export interface AclGrant {
  /** `User:<name>`: a SASL user name, or an mTLS certificate's subject (`User:CN=tributary-client`). */
  principal: string;
  resource: AclResource;
  /** The topic, group or transactional id; `kafka-cluster` for the cluster. */
  name: string;
  /** `prefixed` matches every name starting with `name`. Default `literal`. */
  pattern?: 'literal' | 'prefixed';
  operation: AclOperation;
}

const RESOURCE_TYPES: Record<AclResource, kafkajs.AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
  transactional_id: AclResourceTypes.TRANSACTIONAL_ID,
};

const OPERATIONS: Record<AclOperation, kafkajs.AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  delete: AclOperationTypes.DELETE,
  describe: AclOperationTypes.DESCRIBE,
  describe_configs: AclOperationTypes.DESCRIBE_CONFIGS,
  idempotent_write: AclOperationTypes.IDEMPOTENT_WRITE,
};

function entryOf(grant: AclGrant): AclEntry {
  return {
    principal: grant.principal,
    host: '*',
    resourceType: RESOURCE_TYPES[grant.resource],
    resourceName: grant.name,
    resourcePatternType: grant.pattern === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    operation: OPERATIONS[grant.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

async function withAdmin<T>(brokers: string[], use: (admin: kafkajs.Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'tributary-local-kafka-acls', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates the ALLOW rules; the broker applies them to requests once its metadata has them (a moment later). */
export async function grantAcls(brokers: string[], grants: readonly AclGrant[]): Promise<void> {
  if (grants.length === 0) return;
  await withAdmin(brokers, (admin) => admin.createAcls({ acl: grants.map(entryOf) }));
}

/** Deletes exactly these rules (each filter matches one rule). */
export async function revokeAcls(brokers: string[], grants: readonly AclGrant[]): Promise<void> {
  if (grants.length === 0) return;
  await withAdmin(brokers, async (admin) => {
    // The filters are the rules themselves; kafkajs types filter enums as the entry's.
    const { filterResponses } = await admin.deleteAcls({ filters: grants.map(entryOf) });
    const failed = filterResponses.find((response) => response.errorCode !== 0);
    if (failed !== undefined) throw new Error(`deleting ACLs failed: error code ${failed.errorCode} ${failed.errorMessage ?? ''}`);
  });
}

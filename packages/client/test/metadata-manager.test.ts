// Metadata refresh over the client's network interface (scripted by each test, manual clock):
// where requests go (bootstrap first, then the least loaded known broker, back to bootstrap
// when every known broker fails), one refresh at a time, backoff after failures, waiting for a
// topic, and the topic set that each refresh asks for.

import { ClientError } from '../src/client-error.js';
import { ConnectionPool } from '../src/cluster/connection-pool.js';
import { MetadataManager } from '../src/cluster/metadata-manager.js';
import { KafkaError } from '../src/protocol/errors.js';
import { RetryPolicy } from '../src/retry/retry-policy.js';
import { ManualClock, settle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

function setup(opts: { bootstrap?: string[]; topicIdleMs?: number } = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const pool = new ConnectionPool(net.connector);
  const policy = new RetryPolicy({ retries: 1000, backoffMs: 100, backoffMaxMs: 1000 }, () => 0.5);
  const manager = new MetadataManager({
    bootstrapServers: opts.bootstrap ?? ['seed1:9092', 'seed2:9092'],
    pool,
    clock,
    policy,
    requestTimeoutMs: 30_000,
    maxAgeMs: 300_000,
    topicIdleMs: opts.topicIdleMs,
    random: seededRandom(),
  });
  return { clock, net, pool, manager };
}

describe('MetadataManager', () => {
  test('the first refresh asks a bootstrap server, later ones a known broker; the cache follows', async () => {
    const { net, manager } = setup();
    manager.touchTopic('orders');
    const first = manager.refresh();
    const call = await net.next('metadata');
    expect(['seed1:9092', 'seed2:9092']).toContain(call.address);
    expect(call.request).toEqual({ topics: ['orders'], allTopics: false });
    call.respond(metadataResponse({ brokers: [1, 2], topics: { orders: [{ leader: 2 }] } }));
    await first;
    expect(manager.cache.leaderFor('orders', 0)).toEqual({ leader: 2, leaderEpoch: 0 });

    const second = manager.refresh();
    const call2 = await net.next('metadata');
    expect(['broker1:9092', 'broker2:9092']).toContain(call2.address);
    call2.respond(metadataResponse({ brokers: [1, 2], topics: { orders: [{ leader: 1, epoch: 1 }] } }));
    await second;
    expect(manager.cache.leaderFor('orders', 0)).toEqual({ leader: 1, leaderEpoch: 1 });
  });

  test('concurrent refreshes share one request', async () => {
    const { net, manager } = setup();
    const a = manager.refresh();
    const b = manager.refresh();
    const call = await net.next('metadata');
    call.respond(metadataResponse({ brokers: [1] }));
    await Promise.all([a, b]);
    expect(net.count('metadata')).toBe(1);
  });

  test('the least loaded known broker is asked, and one that just failed is skipped', async () => {
    const { net, pool, manager } = setup();
    const boot = manager.refresh();
    (await net.next('metadata')).respond(metadataResponse({ brokers: [1, 2] }));
    await boot;
    // Occupy broker1 with a call so broker2 is the least loaded.
    const busy = pool.call('broker1:9092', (api) => api.fetch({} as never, { timeoutMs: 1000 }));
    const r = manager.refresh();
    const call = await net.next('metadata');
    expect(call.address).toBe('broker2:9092');
    call.fail(new KafkaError('NETWORK_EXCEPTION'));
    await expect(r).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
    (await net.next('fetch')).respond({});
    await busy;
    const r2 = manager.refresh();
    const call2 = await net.next('metadata');
    expect(call2.address).toBe('broker1:9092');
    call2.respond(metadataResponse({ brokers: [1, 2] }));
    await r2;
  });

  test('when every known broker fails, the bootstrap servers are asked again (rebootstrap); gone brokers are disconnected', async () => {
    const { net, manager } = setup({ bootstrap: ['seed:9092'] });
    const boot = manager.refresh();
    (await net.next('metadata', 'seed:9092')).respond(metadataResponse({ brokers: [7] }));
    await boot;
    const r1 = manager.refresh();
    (await net.next('metadata', 'broker7:9092')).fail(new KafkaError('NETWORK_EXCEPTION'));
    await expect(r1).rejects.toBeInstanceOf(KafkaError);
    const r2 = manager.refresh();
    const call = await net.next('metadata');
    expect(call.address).toBe('seed:9092');
    call.respond(metadataResponse({ brokers: [8] }));
    await r2;
    expect(manager.cache.brokers.map((b) => b.id)).toEqual([8]);
    expect(net.closed).toEqual(['broker7:9092']); // the connection to a broker that left is closed
  });

  test('maybeRefresh never rejects, also when it returns a refresh already running that fails (a producer or consumer only waits on it; a rejection crashed the process)', async () => {
    const { net, manager } = setup({ bootstrap: ['dead:9092'] });
    const explicit = manager.refresh(); // started elsewhere (waitForTopic, an admin call)
    const joined = manager.maybeRefresh();
    expect(joined).not.toBeNull();
    (await net.next('metadata', 'dead:9092')).fail(new KafkaError('NETWORK_EXCEPTION', 'connect ECONNREFUSED'));
    await expect(explicit).rejects.toBeInstanceOf(KafkaError);
    await expect(joined).resolves.toBeUndefined();
  });

  test('maybeRefresh refreshes only when due: requested and past the backoff, or at max age', async () => {
    const { clock, net, manager } = setup();
    expect(manager.maybeRefresh()).not.toBeNull(); // nothing known yet: due
    (await net.next('metadata')).respond(metadataResponse({ brokers: [1] }));
    await settle();
    expect(manager.maybeRefresh()).toBeNull();
    manager.requestUpdate();
    expect(manager.timeToNextUpdate()).toBe(100); // the refresh just made counts for the backoff
    expect(manager.maybeRefresh()).toBeNull();
    clock.advance(100);
    const r = manager.maybeRefresh();
    expect(r).not.toBeNull();
    (await net.next('metadata')).fail(new KafkaError('REQUEST_TIMED_OUT'));
    await r;
    expect(manager.cache.failures).toBe(1);
    expect(manager.timeToNextUpdate()).toBe(100);
    clock.advance(100);
    manager.maybeRefresh();
    (await net.next('metadata')).respond(metadataResponse({ brokers: [1] }));
    await settle();
    expect(manager.timeToNextUpdate()).toBe(300_000);
    clock.advance(300_000);
    expect(manager.maybeRefresh()).not.toBeNull();
    expect(net.count('metadata')).toBe(4);
  });

  test('waitForTopic retries an unknown topic with backoff until it appears', async () => {
    const { clock, net, manager } = setup();
    const wait = manager.waitForTopic('new-topic', undefined, clock.now() + 60_000);
    (await net.next('metadata')).respond(metadataResponse({ brokers: [1], topics: { 'new-topic': { error: 'UNKNOWN_TOPIC_OR_PARTITION' } } }));
    await settle();
    expect(net.pending).toHaveLength(0); // backing off
    clock.advance(100);
    const call = await net.next('metadata');
    expect(call.request.topics).toEqual(['new-topic']);
    call.respond(metadataResponse({ brokers: [1], topics: { 'new-topic': [{ leader: 1 }, { leader: 1 }] } }));
    const info = await wait;
    expect(info.partitions).toHaveLength(2);
  });

  test('waitForTopic waits for a partition beyond the known count and times out with METADATA_TIMEOUT', async () => {
    const { clock, net, manager } = setup();
    net.autoRespond((c) => (c.method === 'metadata' ? metadataResponse({ brokers: [1], topics: { t: [{ leader: 1 }] } }) : undefined));
    const wait = manager.waitForTopic('t', 3, clock.now() + 1_000).catch((e: unknown) => e);
    for (let i = 0; i < 20; i++) {
      await settle();
      clock.advance(100);
    }
    const err = (await wait) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe('METADATA_TIMEOUT');
    expect(err.message).toContain('Partition 3 of topic t with partition count 1');
    expect(net.count('metadata')).toBeGreaterThan(3);
    expect(net.count('metadata')).toBeLessThanOrEqual(11); // one per backoff period, not a busy loop
  });

  test('an invalid topic fails at once with its KafkaError', async () => {
    const { clock, net, manager } = setup();
    const wait = manager.waitForTopic('x', undefined, clock.now() + 60_000);
    (await net.next('metadata')).respond(metadataResponse({ brokers: [1], topics: { x: { error: 'INVALID_TOPIC_EXCEPTION' } } }));
    await expect(wait).rejects.toMatchObject({ type: 'INVALID_TOPIC_EXCEPTION' });
  });

  test('topics idle longer than metadata.max.idle.ms leave the refresh set', async () => {
    const { clock, net, manager } = setup({ topicIdleMs: 10_000 });
    manager.touchTopic('a');
    clock.advance(6_000);
    manager.touchTopic('b');
    clock.advance(6_000);
    const r = manager.refresh();
    const call = await net.next('metadata');
    expect(call.request.topics).toEqual(['b']);
    call.respond(metadataResponse({ brokers: [1], topics: { b: [{ leader: 1 }] } }));
    await r;
  });

  test('close() ends waits with CLOSED and cancels the request in flight', async () => {
    const { clock, net, manager } = setup();
    const wait = manager.waitForTopic('t', undefined, clock.now() + 60_000);
    await net.next('metadata');
    manager.close();
    await expect(wait).rejects.toMatchObject({ code: 'CLOSED' });
    expect(net.pending).toHaveLength(0);
  });
});

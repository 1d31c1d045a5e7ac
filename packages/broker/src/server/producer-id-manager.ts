// Producer ids for idempotent producers, handed out in blocks of 1000 through the coordination
// service (/latest_producer_id_block, compare-and-set), as Kafka's ZooKeeper-mode
// ProducerIdManager does: ids are unique across the cluster and never reused.

import { CoordinatorError, type CoordinatorClient } from '@samsa/coordinator';
import { KafkaError } from '@samsa/client';

export const PRODUCER_ID_BLOCK_PATH = '/latest_producer_id_block';
export const PRODUCER_ID_BLOCK_SIZE = 1000;

interface BlockJson {
  version: 1;
  broker: number;
  block_start: number;
  block_end: number;
}

export class ProducerIdManager {
  private next = 0;
  private end = -1;
  private fetching: Promise<void> | null = null;

  constructor(
    private readonly client: () => CoordinatorClient,
    private readonly brokerId: number,
  ) {}

  async nextProducerId(): Promise<number> {
    while (this.next > this.end) {
      this.fetching ??= this.allocateBlock().finally(() => {
        this.fetching = null;
      });
      await this.fetching;
    }
    return this.next++;
  }

  private async allocateBlock(): Promise<void> {
    const zk = this.client();
    for (let attempt = 0; attempt < 20; attempt++) {
      let start = 0;
      let version = -1;
      try {
        const { data, stat } = await zk.get(PRODUCER_ID_BLOCK_PATH);
        const current = JSON.parse(data.toString()) as BlockJson;
        if (!Number.isSafeInteger(current.block_end)) throw new KafkaError('UNKNOWN_SERVER_ERROR', 'corrupt producer id block znode');
        start = current.block_end + 1;
        version = stat.version;
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NO_NODE')) throw err;
      }
      const block: BlockJson = { version: 1, broker: this.brokerId, block_start: start, block_end: start + PRODUCER_ID_BLOCK_SIZE - 1 };
      try {
        if (version < 0) await zk.create(PRODUCER_ID_BLOCK_PATH, JSON.stringify(block));
        else await zk.set(PRODUCER_ID_BLOCK_PATH, JSON.stringify(block), version);
      } catch (err) {
        if (err instanceof CoordinatorError && (err.code === 'BAD_VERSION' || err.code === 'NODE_EXISTS')) continue; // another broker won
        throw err;
      }
      this.next = block.block_start;
      this.end = block.block_end;
      return;
    }
    throw new KafkaError('REQUEST_TIMED_OUT', 'could not allocate a producer id block (contention)');
  }
}

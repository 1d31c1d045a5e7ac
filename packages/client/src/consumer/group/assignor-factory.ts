// partition.assignment.strategy names to assignor instances (each consumer has its own: the
// sticky assignors remember their last assignment).

import type { AssignmentStrategyName } from '../../config/consumer-config.js';
import { CooperativeStickyAssignor } from '../assignors/cooperative-sticky-assignor.js';
import type { ConsumerPartitionAssignor } from '../assignors/partition-assignor.js';
import { RangeAssignor } from '../assignors/range-assignor.js';
import { RoundRobinAssignor } from '../assignors/round-robin-assignor.js';
import { StickyAssignor } from '../assignors/sticky-assignor.js';

export function createAssignor(name: AssignmentStrategyName): ConsumerPartitionAssignor {
  switch (name) {
    case 'range':
      return new RangeAssignor();
    case 'roundrobin':
      return new RoundRobinAssignor();
    case 'sticky':
      return new StickyAssignor();
    case 'cooperative-sticky':
      return new CooperativeStickyAssignor();
  }
}

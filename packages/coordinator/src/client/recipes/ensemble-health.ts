// A health view of the ensemble from outside: every member's role, term and commit index,
// `unreachable` for members that do not answer. What `coordinator-shell status` prints and
// what `cluster status` and the brokers' readiness use.

import { CoordinatorRpc } from '../rpc.js';

export interface MemberHealth {
  /** Null when the member is down and no other member knows its address. */
  id: number | null;
  address: string;
  role: 'leader' | 'follower' | 'candidate' | 'unreachable';
  term: number | null;
  commitIndex: number | null;
}

export interface EnsembleHealth {
  members: MemberHealth[];
  leaderId: number | null;
  /** A majority of the listed members answer and agree on one leader. */
  healthy: boolean;
}

export async function ensembleHealth(addresses: string[], timeoutMs = 2_000): Promise<EnsembleHealth> {
  const answers = await Promise.all(
    addresses.map(async (address) => {
      const rpc = new CoordinatorRpc(address);
      try {
        return { address, status: await rpc.status(timeoutMs) };
      } catch {
        return { address, status: null };
      } finally {
        rpc.close();
      }
    }),
  );
  const idByAddress = new Map<string, number>();
  for (const a of answers) for (const m of a.status?.members ?? []) if (m.address) idByAddress.set(m.address, m.id);
  const members: MemberHealth[] = answers.map(({ address, status }) =>
    status
      ? {
          id: status.id,
          address,
          role: status.role === 'leader' ? 'leader' : status.role === 'follower' ? 'follower' : 'candidate',
          term: status.term,
          commitIndex: status.commitIndex,
        }
      : { id: idByAddress.get(address) ?? null, address, role: 'unreachable', term: null, commitIndex: null },
  );
  const leaders = members.filter((m) => m.role === 'leader');
  const reachable = members.filter((m) => m.role !== 'unreachable').length;
  const leaderId = leaders.length === 1 ? leaders[0]!.id : null;
  return { members, leaderId, healthy: leaderId !== null && reachable > members.length / 2 };
}

// Group ids as Kafka accepts them: a non-empty string of at most 255 UTF-16 units here (Kafka's
// limit is the protocol's string size; a bound keeps requests and broker state small).

import { invalidArgument } from '../../client-error.js';

export const MAX_GROUP_ID_LENGTH = 255;

export function validateGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || groupId === '' || groupId.length > MAX_GROUP_ID_LENGTH) {
    throw invalidArgument(`a group id must be a non-empty string of at most ${MAX_GROUP_ID_LENGTH} characters, got ${JSON.stringify(groupId)}`);
  }
}

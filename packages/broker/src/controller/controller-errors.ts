// Errors internal to the controller. Callers of the controller's public API only ever see
// KafkaError (NOT_CONTROLLER and friends); these unwind an event or reject a znode.

/** A fenced write failed: /controller_epoch moved on, so another controller is in charge. */
export class ControllerMovedError extends Error {
  readonly code = 'CONTROLLER_MOVED';
  constructor(message = 'the controller epoch moved on: another controller is active') {
    super(message);
    this.name = 'ControllerMovedError';
  }
}

/** A znode whose data does not follow the layout (BROKER-DESIGN.md); the path says which. */
export class CorruptZnodeError extends Error {
  readonly code = 'CORRUPT_ZNODE';
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`znode ${path}: ${why}`);
    this.name = 'CorruptZnodeError';
  }
}

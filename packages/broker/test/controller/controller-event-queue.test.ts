// The controller's event queue: one event at a time, triggers coalesce, requests are bounded.
import { ControllerEventQueue, QueueClosedError, QueueFullError } from '../../src/controller/controller-event-queue.js';

const gate = (): { promise: Promise<void>; open: () => void } => {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
};

describe('ControllerEventQueue', () => {
  test('runs events one at a time, in order', async () => {
    const q = new ControllerEventQueue(10);
    const log: string[] = [];
    const g = gate();
    const a = q.request('a', async () => {
      log.push('a start');
      await g.promise;
      log.push('a end');
      return 1;
    });
    const b = q.request('b', async () => {
      log.push('b');
      return 2;
    });
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a start']);
    g.open();
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(log).toEqual(['a start', 'a end', 'b']);
  });

  test('a trigger already waiting is not queued again; once it started, it is', async () => {
    const events: string[] = [];
    const q = new ControllerEventQueue(10, { onEvent: (n) => events.push(n) });
    const g = gate();
    let runs = 0;
    void q.request('block', () => g.promise);
    q.trigger('BrokerChange', async () => void runs++);
    q.trigger('BrokerChange', async () => void runs++);
    q.trigger('BrokerChange', async () => void runs++);
    expect(q.size).toBe(1);
    g.open();
    await q.whenIdle();
    expect(runs).toBe(1);
    q.trigger('BrokerChange', async () => void runs++);
    await q.whenIdle();
    expect(runs).toBe(2);
    expect(events).toEqual(['block', 'BrokerChange', 'BrokerChange']);
  });

  test('waiting requests past the limit are refused; a failing request rejects only its caller', async () => {
    const q = new ControllerEventQueue(2);
    const g = gate();
    const running = q.request('1', () => g.promise);
    const failing = q.request('2', async () => {
      throw new Error('boom');
    });
    const third = q.request('3', async () => 3);
    await expect(q.request('4', async () => 4)).rejects.toBeInstanceOf(QueueFullError);
    g.open();
    await running;
    await expect(failing).rejects.toThrow('boom');
    expect(await third).toBe(3);
    expect(await q.request('5', async () => 5)).toBe(5);
  });

  test('a trigger that throws is reported and the queue goes on', async () => {
    const errors: string[] = [];
    const q = new ControllerEventQueue(2, { onTriggerError: (n) => errors.push(n) });
    q.trigger('bad', async () => {
      throw new Error('x');
    });
    expect(await q.request('after', async () => 'ok')).toBe('ok');
    expect(errors).toEqual(['bad']);
  });

  test('close rejects waiting requests and refuses new ones; the running one finishes', async () => {
    const q = new ControllerEventQueue(5);
    const g = gate();
    const running = q.request('run', async () => {
      await g.promise;
      return 'done';
    });
    const waiting = q.request('wait', async () => 'never');
    await new Promise((r) => setImmediate(r));
    q.close();
    await expect(waiting).rejects.toBeInstanceOf(QueueClosedError);
    await expect(q.request('new', async () => 1)).rejects.toBeInstanceOf(QueueClosedError);
    g.open();
    expect(await running).toBe('done');
    await q.whenIdle();
  });
});

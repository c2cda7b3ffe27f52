import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseServerConfig } from '../config/parse.js';
import { type AlarmMember, AlarmType } from '../pb/etcdserverpb/rpc.js';
import type { Clock, Timer } from '../runtime/clock.js';
import { DISARM_FRACTION, NoSpaceAutoDisarm } from './nospace-auto-disarm.js';

const ME = 0xaan;
const OTHER = 0xbbn;
const QUOTA = 1000;

/** A clock whose periodic timers fire when told to. */
class ManualClock implements Clock {
  private readonly periodic = new Set<() => void>();
  now = (): number => 0;
  monotonic = (): number => 0;
  after(): Timer {
    throw new Error('not used');
  }
  every(_ms: number, fn: () => void): Timer {
    this.periodic.add(fn);
    return { cancel: () => this.periodic.delete(fn) };
  }
  soon(fn: () => void): void {
    fn();
  }
  fire(): void {
    for (const fn of this.periodic) fn();
  }
  get timers(): number {
    return this.periodic.size;
  }
}

function setup(opts: { size: number; leader?: boolean; alarms: bigint[] }) {
  const clock = new ManualClock();
  const state = {
    size: opts.size,
    alarms: opts.alarms.map((memberID): AlarmMember => ({ memberID, alarm: AlarmType.NOSPACE })),
  };
  const deactivated: bigint[] = [];
  const disarm = new NoSpaceAutoDisarm({
    clock,
    memberId: ME,
    quotaBytes: QUOTA,
    backendSizeBytes: () => state.size,
    noSpaceAlarms: () => state.alarms,
    isLeader: () => opts.leader ?? false,
    isMember: (id) => id === ME || id === OTHER,
    deactivate: async (a) => {
      deactivated.push(a.memberID);
      state.alarms = state.alarms.filter((x) => x.memberID !== a.memberID);
    },
    info: () => undefined,
    warn: () => undefined,
  });
  return { clock, state, deactivated, disarm };
}

describe('NoSpaceAutoDisarm', () => {
  test('disarms its own alarm only once the size is below the fraction of the quota', async () => {
    const s = setup({ size: QUOTA * DISARM_FRACTION, alarms: [ME] });
    await s.disarm.check();
    assert.deepEqual(s.deactivated, [], 'at exactly 80% the alarm stays');
    s.state.size = QUOTA * DISARM_FRACTION - 1;
    await s.disarm.check();
    assert.deepEqual(s.deactivated, [ME]);
  });

  test("leaves other members' alarms to them; the leader takes those of non-members (id 0)", async () => {
    const follower = setup({ size: 10, alarms: [OTHER, 0n] });
    await follower.disarm.check();
    assert.deepEqual(follower.deactivated, []);
    const leader = setup({ size: 10, leader: true, alarms: [OTHER, 0n, ME] });
    await leader.disarm.check();
    assert.deepEqual(leader.deactivated, [0n, ME]);
  });

  test('checks on the clock, and stops', async () => {
    const s = setup({ size: 10, alarms: [ME] });
    s.disarm.start();
    assert.equal(s.clock.timers, 1);
    s.clock.fire();
    await s.disarm.check();
    assert.deepEqual(s.deactivated, [ME]);
    s.disarm.stop();
    assert.equal(s.clock.timers, 0);
  });

  test('a failed proposal is retried at the next look', async () => {
    const s = setup({ size: 10, alarms: [ME] });
    let fail = true;
    const d = new NoSpaceAutoDisarm({
      clock: s.clock,
      memberId: ME,
      quotaBytes: QUOTA,
      backendSizeBytes: () => 10,
      noSpaceAlarms: () => s.state.alarms,
      isLeader: () => false,
      isMember: () => true,
      deactivate: async (a) => {
        if (fail) throw new Error('etcdserver: request timed out');
        s.deactivated.push(a.memberID);
      },
      info: () => undefined,
      warn: () => undefined,
    });
    await d.check();
    assert.deepEqual(s.deactivated, []);
    fail = false;
    await d.check();
    assert.deepEqual(s.deactivated, [ME]);
  });
});

describe('--experimental-auto-disarm-nospace', () => {
  const noFile = { readFile: (): string => assert.fail('no config file expected') };
  test('off by default; on by flag, ETCD_ variable or config file key', () => {
    assert.equal(parseServerConfig([], {}, noFile).experimentalAutoDisarmNospace, false);
    assert.equal(
      parseServerConfig(['--experimental-auto-disarm-nospace'], {}, noFile).experimentalAutoDisarmNospace,
      true,
    );
    assert.equal(
      parseServerConfig([], { ETCD_EXPERIMENTAL_AUTO_DISARM_NOSPACE: 'true' }, noFile)
        .experimentalAutoDisarmNospace,
      true,
    );
    const file = { readFile: (): string => 'experimental-auto-disarm-nospace: true\n' };
    assert.equal(
      parseServerConfig(['--config-file', '/e.yml'], {}, file).experimentalAutoDisarmNospace,
      true,
    );
  });
});

// A small Prometheus text exposition of the member's state, under etcd's
// metric names (the ones dashboards and kubeadm checks look at).
import type { HealthPort } from '../server/ports.js';

interface Metric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: number;
}

function render(metrics: Metric[]): string {
  let out = '';
  for (const m of metrics) {
    out += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${m.value}\n`;
  }
  return out;
}

export function metricsText(member: HealthPort): string {
  const st = member.status();
  return render([
    {
      name: 'etcd_server_has_leader',
      help: 'Whether or not a leader exists. 1 is existence, 0 is not.',
      type: 'gauge',
      value: st.leader !== 0n ? 1 : 0,
    },
    {
      name: 'etcd_server_is_leader',
      help: 'Whether or not this member is a leader. 1 if is, 0 otherwise.',
      type: 'gauge',
      value: member.isLeader() ? 1 : 0,
    },
    {
      name: 'etcd_server_is_learner',
      help: 'Whether or not this member is a learner. 1 if is, 0 otherwise.',
      type: 'gauge',
      value: st.isLearner ? 1 : 0,
    },
    {
      name: 'etcd_server_proposals_committed_total',
      help: 'The total number of consensus proposals committed.',
      type: 'gauge',
      value: st.raftIndex,
    },
    {
      name: 'etcd_server_proposals_applied_total',
      help: 'The total number of consensus proposals applied.',
      type: 'gauge',
      value: st.raftAppliedIndex,
    },
    {
      name: 'etcd_mvcc_db_total_size_in_bytes',
      help: 'Total size of the underlying database physically allocated in bytes.',
      type: 'gauge',
      value: st.dbSize,
    },
    {
      name: 'etcd_mvcc_db_total_size_in_use_in_bytes',
      help: 'Total size of the underlying database logically in use in bytes.',
      type: 'gauge',
      value: st.dbSizeInUse,
    },
    {
      name: 'etcd_debugging_mvcc_current_revision',
      help: 'The current revision of store.',
      type: 'gauge',
      value: st.header?.revision ?? 0,
    },
  ]);
}

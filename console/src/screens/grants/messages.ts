import { messages } from '../../lib/i18n';

export const m = messages(
  {
    title: 'Benefit grants',
    start: 'Start a grant',
    benefit: 'Benefit code',
    target: 'Grant to',
    listed: 'Listed members',
    segment: 'Lifecycle segment',
    memberIds: 'Member ids',
    memberIdsHint: 'One per line or separated by commas; a member is granted once per grant.',
    note: 'Note (optional)',
    review: 'Review grant…',
    confirmLabel: 'Confirm grant',
    confirmMembers: 'Grant “{benefit}” free to {count} listed members?',
    confirmSegment: 'Grant “{benefit}” free to every member in the {segment} segment now?',
    noMembers: 'List at least one member id.',
    noBenefit: 'Choose a benefit.',
    progress: 'Grant {id}',
    status: 'Status',
    running: 'running',
    done: 'done',
    total: 'Members',
    processed: 'Processed',
    issued: 'Issued',
    failed: 'Failed (out of stock)',
    skipped: 'Skipped (unknown or frozen)',
    progressLabel: 'Grant progress',
    started: 'Started',
    preview: 'Segment preview',
    segmentName: 'Segment',
    segmentHint: 'active, silent, churned, tier:<CODE> or cohort:<YYYY-MM>',
    show: 'Show',
    member: 'Member',
    registered: 'Registered',
    lastActivity: 'Last activity',
    tier: 'Tier',
    noMembersInSegment: 'No member is in this segment now.',
    'seg.active': 'active',
    'seg.silent': 'silent (7–29 days idle)',
    'seg.churned': 'churned (30+ days idle)',
  },
  {
    title: '权益发放',
    start: '发起发放',
    benefit: '权益编码',
    target: '发放对象',
    listed: '指定会员',
    segment: '生命周期分群',
    memberIds: '会员 ID',
    memberIdsHint: '每行一个或以逗号分隔；同一次发放每位会员只发一次。',
    note: '备注（可选）',
    review: '检查发放…',
    confirmLabel: '确认发放',
    confirmMembers: '向 {count} 位指定会员免费发放“{benefit}”？',
    confirmSegment: '向当前“{segment}”分群的所有会员免费发放“{benefit}”？',
    noMembers: '请至少填写一个会员 ID。',
    noBenefit: '请选择权益。',
    progress: '发放任务 {id}',
    status: '状态',
    running: '进行中',
    done: '已完成',
    total: '会员数',
    processed: '已处理',
    issued: '已发放',
    failed: '失败（库存不足）',
    skipped: '已跳过（不存在或已冻结）',
    progressLabel: '发放进度',
    started: '开始时间',
    preview: '分群预览',
    segmentName: '分群',
    segmentHint: 'active、silent、churned、tier:<等级编码> 或 cohort:<YYYY-MM>',
    show: '查看',
    member: '会员',
    registered: '注册时间',
    lastActivity: '最近活跃',
    tier: '等级',
    noMembersInSegment: '当前该分群没有会员。',
    'seg.active': '活跃',
    'seg.silent': '沉默（7–29 天未活跃）',
    'seg.churned': '流失（30 天以上未活跃）',
  },
);

export const SEGMENTS = ['active', 'silent', 'churned'] as const;
export type Segment = (typeof SEGMENTS)[number];

export type Grant = {
  id: string;
  benefitCode: string;
  segment: Segment | null;
  note: string | null;
  status: 'running' | 'done';
  total: number;
  processed: number;
  issued: number;
  failed: number;
  createdAt: string;
};

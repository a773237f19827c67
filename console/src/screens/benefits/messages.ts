import { messages } from '../../lib/i18n';

/** The benefits screens' words (catalogue, a benefit's page, its redemptions). */
export const m = messages(
  {
    title: 'Benefits',
    catalogue: 'Catalogue',
    code: 'Code',
    name: 'Name',
    description: 'Description',
    kind: 'Kind',
    cost: 'Cost (points)',
    stock: 'Stock (total)',
    stockLeft: 'Stock left',
    unlimited: 'unlimited',
    active: 'Active',
    version: 'Version',
    updated: 'Updated',
    created: 'Created',
    tiers: 'Eligible tiers',
    allTiers: 'every member',
    perMemberLimit: 'Per-member limit',
    limitValue: '{count} per {period}',
    window: 'Valid',
    always: 'always',
    voucherDays: 'Voucher valid for (days)',
    noCatalogue: 'No benefits yet. Create one with a new code above.',
    newCode: 'New benefit code',
    newHint: 'lowercase letters, digits, _ and -',
    create: 'Create',
    badCode: 'A code is 2–48 lowercase letters, digits, _ and -.',
    back: 'All benefits',
    notDefined: 'Benefit “{code}” is not defined yet: fill in the form to create it.',
    definition: 'Definition',
    editor: 'Edit',
    stockHint: 'Total units (initial plus restocks); empty is unlimited.',
    otherFields: 'Other fields (JSON)',
    otherHint: 'tiers, perMemberLimit, validFrom, validTo, voucherValidDays',
    badJson: 'The other fields are not a JSON object: {message}',
    badNumber: '{field} must be a whole number of 0 or more.',
    saveConfirm: 'Save “{name}” as version {version}?',
    confirmSave: 'Confirm save',
    review: 'Review and save',
    restock: 'Restock',
    addUnits: 'Units to add',
    restockAsk: 'Restock…',
    restockConfirm: 'Add {units} units to “{name}”: {before} → {after} in all, {left} → {leftAfter} left.',
    confirmRestock: 'Confirm restock',
    restocked: 'Restocked: {left} left.',
    unlimitedNoRestock: 'This benefit’s stock is unlimited; set a total in the editor to count it.',
    redemptions: 'Redemptions',
    status: 'Status',
    allStatuses: 'all',
    member: 'Member',
    quantity: 'Qty',
    points: 'Points',
    voucher: 'Voucher',
    expires: 'Expires',
    closed: 'Used / cancelled',
    noRedemptions: 'No redemptions of this benefit.',
    'kind.coupon': 'coupon',
    'kind.gift': 'gift',
    'kind.privilege': 'privilege',
    'kind.voucher': 'voucher',
    'status.pending': 'pending',
    'status.issued': 'issued',
    'status.used': 'used',
    'status.cancelled': 'cancelled',
    'status.expired': 'expired',
    'status.failed': 'failed',
    'period.day': 'day',
    'period.week': 'week',
    'period.month': 'month',
    'period.year': 'year',
    'period.lifetime': 'lifetime',
  },
  {
    title: '权益商城',
    catalogue: '权益目录',
    code: '编码',
    name: '名称',
    description: '描述',
    kind: '类型',
    cost: '所需积分',
    stock: '总库存',
    stockLeft: '剩余库存',
    unlimited: '不限',
    active: '已上架',
    version: '版本',
    updated: '更新时间',
    created: '创建时间',
    tiers: '可兑换等级',
    allTiers: '所有会员',
    perMemberLimit: '每人限兑',
    limitValue: '每{period} {count} 件',
    window: '有效期',
    always: '长期有效',
    voucherDays: '券有效天数',
    noCatalogue: '暂无权益。请在上方输入新编码创建。',
    newCode: '新权益编码',
    newHint: '小写字母、数字、_ 和 -',
    create: '创建',
    badCode: '编码为 2–48 位小写字母、数字、_ 或 -。',
    back: '全部权益',
    notDefined: '权益“{code}”尚未创建：填写下方表单即可创建。',
    definition: '权益定义',
    editor: '编辑',
    stockHint: '总数量（初始加补货）；留空表示不限。',
    otherFields: '其他字段（JSON）',
    otherHint: 'tiers、perMemberLimit、validFrom、validTo、voucherValidDays',
    badJson: '其他字段不是 JSON 对象：{message}',
    badNumber: '{field}必须是不小于 0 的整数。',
    saveConfirm: '将“{name}”保存为第 {version} 版？',
    confirmSave: '确认保存',
    review: '检查并保存',
    restock: '补货',
    addUnits: '补货数量',
    restockAsk: '补货…',
    restockConfirm: '为“{name}”补货 {units} 件：总库存 {before} → {after}，剩余 {left} → {leftAfter}。',
    confirmRestock: '确认补货',
    restocked: '补货成功：剩余 {left} 件。',
    unlimitedNoRestock: '该权益库存不限；如需计数，请在编辑中设置总库存。',
    redemptions: '兑换记录',
    status: '状态',
    allStatuses: '全部',
    member: '会员',
    quantity: '数量',
    points: '积分',
    voucher: '券码',
    expires: '到期时间',
    closed: '核销 / 取消时间',
    noRedemptions: '该权益暂无兑换记录。',
    'kind.coupon': '优惠券',
    'kind.gift': '礼品',
    'kind.privilege': '特权',
    'kind.voucher': '代金券',
    'status.pending': '处理中',
    'status.issued': '已发放',
    'status.used': '已核销',
    'status.cancelled': '已取消',
    'status.expired': '已过期',
    'status.failed': '失败',
    'period.day': '天',
    'period.week': '周',
    'period.month': '月',
    'period.year': '年',
    'period.lifetime': '终身',
  },
);
export type Key = keyof (typeof m)['en'];

export const KINDS = ['coupon', 'gift', 'privilege', 'voucher'] as const;
export const STATUSES = ['pending', 'issued', 'used', 'cancelled', 'expired', 'failed'] as const;

/** A benefit as ops' routes answer it (GET/PUT /v1/admin/benefits). */
export type Benefit = {
  code: string;
  name: string;
  description: string | null;
  kind: (typeof KINDS)[number];
  costPoints: number;
  tiers: string[] | null;
  perMemberLimit: { count: number; period: string } | null;
  validFrom: string | null;
  validTo: string | null;
  voucherValidDays: number | null;
  stock: number | null;
  stockLeft: number | null;
  active: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
};

export type Redemption = {
  id: string;
  benefitCode: string;
  memberId: string;
  quantity: number;
  status: (typeof STATUSES)[number];
  voucherCode: string | null;
  expiresAt: string | null;
  pointsSpent: number;
  createdAt: string;
  usedAt: string | null;
  cancelledAt: string | null;
  failure: string | null;
};

/** The fields of PUT /v1/admin/benefits/:code that live outside the form, as the editor's JSON shows them. */
export const otherFieldsOf = (b: Benefit | null): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  if (b?.tiers) out.tiers = b.tiers;
  if (b?.perMemberLimit) out.perMemberLimit = b.perMemberLimit;
  if (b?.validFrom) out.validFrom = b.validFrom;
  if (b?.validTo) out.validTo = b.validTo;
  if (b?.voucherValidDays) out.voucherValidDays = b.voucherValidDays;
  return out;
};

/** The saved definition as a PUT body (absent for null), with `stock` as given: what a restock sends. */
export const bodyOf = (b: Benefit, stock: number | null): Record<string, unknown> => ({
  name: b.name,
  ...(b.description ? { description: b.description } : {}),
  kind: b.kind,
  costPoints: b.costPoints,
  stock,
  active: b.active,
  ...otherFieldsOf(b),
});

/** The parts of the API's answers (each module's schemas file) the members screen reads. */
export type Member = {
  memberId: string;
  displayName: string | null;
  timezone: string;
  status: 'active' | 'frozen';
  createdAt: string;
};
export type Summary = {
  tier?: { code: string; name: string; since: string | null; validUntil: string | null } | null;
  growth?: { value: number; nextTier: string | null; missingToNext: number | null };
  badges?: { code: string; name: string; awardedAt: string }[];
};
export type MemberWithSummary = { member: Member; summary: Summary };

export type Balance = {
  available: number;
  held: number;
  pending: number;
  becomingAvailable: { availableAt: string; points: number }[];
  debt: number;
  expiringIn30Days: number;
  expiring: { expiresAt: string; points: number }[];
  lifetime: { earned: number; spent: number; expired: number; reversed: number; adjusted: number };
};

export type Entry = {
  id: string;
  seq: number;
  kind: string;
  amount: number;
  points: number;
  code: string;
  expiresAt: string | null;
  availableAt: string | null;
  createdAt: string;
  balanceAfter: { available: number; held: number; pending: number };
};

export type CheckinCalendar = { currentStreak: number; bestStreak: number; totalCheckins: number; checkedInToday: boolean };

export type MemberReferral = {
  code: string;
  invitedCount: number;
  invitees: { name: string; state: string; boundAt: string; memberId?: string }[];
  nextCursor: string | null;
  rewards: { points: number; count: number };
  referredBy: { state: string; boundAt: string } | null;
};

export type TierChange = { seq: number; from: string | null; to: string; reason: string; growth: number; at: string; validUntil: string | null };

import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { counterChains } from '../../platform/db/counter-chain.js';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import { noFacts, type FactSink } from '../../platform/facts.js';
import type { Faults } from '../../platform/faults.js';
import type { Clock } from '../../platform/clock.js';
import { bindingFact, referralsFactSource, stepFact } from './referrals.facts.js';
import type { ProgramInput } from './referrals.schemas.js';

/** A program version: every PUT inserts the next one, so two saves cannot claim one version (like tier ladders). */
/** `auditId`: the audit id of the ops write that saved this version (docs/DECISIONS.md, "Audit"). */
export type ProgramDoc = ProgramInput & { _id: number; updatedAt: Date; actor: string; auditId?: string };
/** A code's owner, `_id = code`. Valid only while the owner's `MemberCodeDoc` names it (a lost race leaves a dead code). */
export type CodeDoc = { _id: string; memberId: string; at: Date };
/** A member's code, `_id = memberId`: the first insert wins, and every reader sees that one. */
export type MemberCodeDoc = { _id: string; code: string; at: Date };
/** The keyed hashes of the device a member registered from, `_id = memberId` (raw ids and IPs are never stored). */
export type DeviceDoc = { _id: string; deviceHash: string | null; ipHash: string | null; at: Date };

/**
 * A binding, `_id = invitee`: one per invitee, whoever races. Written once with what the guards saw at binding time;
 * everything that happens to it afterwards is a step of its own.
 */
export type BindingDoc = {
  _id: string;
  referrer: string;
  code: string;
  via: 'registration' | 'bind';
  /** This binding attempt's own id: a due record names it, so a record written by an attempt that lost does nothing. */
  attempt: string;
  /** The program version bound under: its qualifying event, rewards and hold period apply to this referral. */
  programVersion: number;
  boundAt: Date;
  qualifyBy: Date;
  /** Fraud guards that tripped at binding (`shared_device`, `device_reuse`, `ip_burst`): the referral goes to review. */
  flags: string[];
  deviceHash: string | null;
  ipHash: string | null;
};

/** `referral`: the referral's id, which is its invitee's member id. */
type StepBase = { _id: string; referral: string; at: Date };
/** Qualified by its first qualifying event, or expired at the deadline: exactly one of them lands. */
export type FirstStep = StepBase & {
  step: 'first';
  outcome: 'qualified' | 'expired';
  scope: string | null;
  eventId: string | null;
  orderId: string | null;
  amount: number | null;
  occurredAt: Date | null;
};
/** Pay at once, or wait for ops (with the reasons); `month` is the cap's calendar month. */
export type RouteStep = StepBase & { step: 'route'; to: 'pay' | 'review'; reasons: string[]; month: string };
/** Ops' one decision on a referral in review (or the system's, when the qualifying order is refunded meanwhile). */
export type DecisionStep = StepBase & { step: 'decision'; outcome: 'approved' | 'rejected'; note: string | null; by: string };
export type SidePaid = { points: number; entryId: string | null; benefitCode: string | null; redemptionId: string | null };
/** What was paid (written once the ledger and the grants landed), and when its points become spendable. */
export type PaidStep = StepBase & { step: 'paid'; availableAt: Date; referrer: SidePaid; invitee: SidePaid };
/** The end of the hold period: kept (`settled`) or taken back by a refund (`reversed`); exactly one lands. */
export type CloseStep = StepBase & { step: 'close'; outcome: 'settled' | 'reversed' };
export type Step = FirstStep | RouteStep | DecisionStep | PaidStep | CloseStep;
type StepOf<K extends Step['step']> = Extract<Step, { step: K }>;

/** A binding with every step that landed. */
export type Referral = {
  binding: BindingDoc;
  first: FirstStep | null;
  route: RouteStep | null;
  decision: DecisionStep | null;
  paid: PaidStep | null;
  close: CloseStep | null;
};

const stepId = (invitee: string, step: Step['step']) => `${invitee}#${step}`;
const STEPS = ['first', 'route', 'decision', 'paid', 'close'] as const;

/**
 * The referrals' collections: programs, codes both ways, registration devices, bindings, steps — every decision an
 * insert under a unique `_id` — and counter chains per referrer (or per IP) for the guards, the cap, the invitee list
 * and the rewards (`referral_counters`, sharded by `owner`).
 */
export function referralsRepository(db: Connection, opts: { clock: Clock; faults?: Faults; facts?: FactSink }) {
  const facts = opts.facts ?? noFacts;
  const model = (name: string, collection: string) => db.model(name, new Schema({}, { collection, strict: false, versionKey: false }));
  const models = {
    programs: db.model('ReferralProgram', new Schema({ _id: Number }, { collection: 'referral_programs', strict: false, versionKey: false })),
    codes: model('ReferralCode', 'referral_codes'),
    memberCodes: model('ReferralMemberCode', 'referral_member_codes'),
    devices: model('ReferralDevice', 'referral_devices'),
    bindings: model('Referral', 'referrals'),
    steps: model('ReferralStep', 'referral_steps'),
  };
  const programs = models.programs.collection as unknown as Collection<ProgramDoc>;
  const codes = models.codes.collection as unknown as Collection<CodeDoc>;
  const memberCodes = models.memberCodes.collection as unknown as Collection<MemberCodeDoc>;
  const devices = models.devices.collection as unknown as Collection<DeviceDoc>;
  const bindings = models.bindings.collection as unknown as Collection<BindingDoc>;
  const steps = models.steps.collection as unknown as Collection<Step>;
  const counters = counterChains<{ owner: string; invitee?: string }>(db, 'referral_counters', { shardKey: 'owner', ...opts });

  async function stepsOf(invitee: string): Promise<Omit<Referral, 'binding'>> {
    const found = await Promise.all(STEPS.map((s) => steps.findOne({ _id: stepId(invitee, s) })));
    const [first, route, decision, paid, close] = found as [FirstStep | null, RouteStep | null, DecisionStep | null, PaidStep | null, CloseStep | null];
    return { first, route, decision, paid, close };
  }

  return {
    counters,
    factSource: referralsFactSource(bindings, steps),
    async init() {
      for (const m of Object.values(models)) await ensureCollection(m);
      await counters.init();
    },

    program: (version: number) => programs.findOne({ _id: version }),
    /** The version after `from` (versions are never deleted, so the newest is found by walking forward by _id). */
    nextProgram: (from: number) => programs.findOne({ _id: from + 1 }),
    insertProgram: (doc: ProgramDoc) => insertOnce(programs, doc),

    codeOwner: (code: string) => codes.findOne({ _id: code }),
    memberCode: (memberId: string) => memberCodes.findOne({ _id: memberId }),
    claimCode: (doc: CodeDoc) => insertOnce(codes, doc),
    claimMemberCode: (doc: MemberCodeDoc) => insertOnce(memberCodes, doc),

    /** Records the registration device once (a member registers once). */
    recordDevice: (doc: DeviceDoc) => insertOnce(devices, doc),
    device: (memberId: string) => devices.findOne({ _id: memberId }),

    /** One binding per invitee: false when the invitee is bound already (by this referrer or another). */
    async insertBinding(doc: BindingDoc): Promise<boolean> {
      const inserted = await insertOnce(bindings, doc);
      if (inserted) facts.record(bindingFact(doc));
      return inserted;
    },
    binding: (invitee: string) => bindings.findOne({ _id: invitee }),

    /** A binding and its steps (six reads by _id), or null when the member is bound to nobody. */
    async load(invitee: string): Promise<Referral | null> {
      const [binding, found] = await Promise.all([bindings.findOne({ _id: invitee }), stepsOf(invitee)]);
      return binding ? { binding, ...found } : null;
    },
    /** A binding already read, with its steps. */
    withSteps: async (binding: BindingDoc): Promise<Referral> => ({ binding, ...(await stepsOf(binding._id)) }),

    /** Commits a step unless one of its kind landed first; answers the step that holds (this one, or the earlier). */
    async commitStep<K extends Step['step']>(invitee: string, step: Omit<StepOf<K>, '_id' | 'referral'> & { step: K }): Promise<{ step: StepOf<K>; won: boolean }> {
      const doc = { ...step, _id: stepId(invitee, step.step), referral: invitee } as StepOf<K>;
      if (await insertOnce(steps, doc)) {
        const fact = stepFact(doc);
        if (fact) facts.record(fact);
        return { step: doc, won: true };
      }
      const earlier = (await steps.findOne({ _id: doc._id })) as StepOf<K> | null;
      if (!earlier) throw new Error(`referral step ${doc._id} was taken but cannot be read`);
      return { step: earlier, won: false };
    },

    /** Bindings newest first after the cursor `(boundAt, _id)`, optionally of one referrer (a scan: ops lists only). */
    async page(limit: number, after?: { at: Date; id: string }, referrer?: string): Promise<BindingDoc[]> {
      const page = after ? { $or: [{ boundAt: { $lt: after.at } }, { boundAt: after.at, _id: { $lt: after.id } }] } : {};
      return bindings
        .find({ ...(referrer ? { referrer } : {}), ...page })
        .sort({ boundAt: -1, _id: -1 })
        .limit(limit)
        .toArray();
    },
  };
}
export type ReferralsRepository = ReturnType<typeof referralsRepository>;

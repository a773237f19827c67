import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { ensureCollection, insertOnce } from '../../platform/db/connection.js';
import type { MemberView } from './members.schemas.js';

export type MemberDoc = {
  _id: string;
  displayName: string | null;
  birthday: string | null;
  timezone: string;
  status: 'active' | 'frozen';
  createdAt: Date;
  updatedAt: Date;
  /** The audit id of the last ops change (docs/DECISIONS.md, "Audit"); absent until ops change the member. */
  auditId?: string;
};

const memberSchema = new Schema<MemberDoc>(
  {
    _id: { type: String, required: true },
    displayName: { type: String, default: null },
    birthday: { type: String, default: null },
    timezone: { type: String, required: true },
    status: { type: String, enum: ['active', 'frozen'], required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    auditId: { type: String },
  },
  { versionKey: false, collection: 'members' },
);

/** Things that may happen once per member (e.g. setting the birthday), each committed by a unique _id insert. */
const onceSchema = new Schema<{ _id: string; at: Date }>({ _id: String, at: Date }, { versionKey: false, collection: 'member_once' });

/** The members repository: plain objects in and out, never live mongoose documents. */
export function membersRepository(db: Connection) {
  const Members = db.model<MemberDoc>('Member', memberSchema);
  const Once = db.model('MemberOnce', onceSchema);
  const once = Once.collection as unknown as Collection<{ _id: string; at: Date }>;
  return {
    async ensureIndexes() {
      await ensureCollection(Members);
      await ensureCollection(Once);
    },
    /** Inserts; rejects with a duplicate-key error when the memberId exists. */
    async insert(doc: MemberDoc): Promise<void> {
      await Members.collection.insertOne(doc as never);
    },
    collection: Members.collection as unknown as Collection<MemberDoc>,
    /** Every member id (a scan: for jobs and previews, never a request path). */
    async listIds(): Promise<string[]> {
      return (await Members.collection.find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
    },
    /** By _id through the driver (a member is read on every hot path; mongoose's document layer costs CPU there). */
    async find(memberId: string): Promise<MemberDoc | null> {
      return (await Members.collection.findOne({ _id: memberId } as never)) as MemberDoc | null;
    },
    async update(memberId: string, set: Partial<MemberDoc>): Promise<MemberDoc | null> {
      return Members.findByIdAndUpdate(memberId, { $set: set }, { returnDocument: 'after' }).lean<MemberDoc>().exec();
    },
    /** True the first time `what` is claimed for this member, false after. */
    claimOnce: (memberId: string, what: string, at: Date): Promise<boolean> => insertOnce(once, { _id: `${memberId}:${what}`, at }),
  };
}
export type MembersRepository = ReturnType<typeof membersRepository>;


export const toMemberView = (d: MemberDoc): MemberView => ({
  memberId: d._id,
  displayName: d.displayName,
  birthday: d.birthday,
  timezone: d.timezone,
  status: d.status,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

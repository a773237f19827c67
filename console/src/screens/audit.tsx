/** Written by the audit screen's author; see docs/CONSOLE.md. */
export function AuditScreen({ args }: { args: string[] }) {
  return <h1>audit {args.join('/')}</h1>;
}

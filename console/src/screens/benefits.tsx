import { BenefitPage } from './benefits/benefit';
import { Catalogue } from './benefits/catalogue';

/** `#/benefits`: the catalogue; `#/benefits/<code>`: one benefit (docs/CONSOLE.md). */
export function BenefitsScreen({ args }: { args: string[] }) {
  const [code] = args;
  return code ? <BenefitPage key={code} code={code} /> : <Catalogue />;
}

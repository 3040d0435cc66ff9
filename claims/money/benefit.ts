// Benefit-level (MUC_HUONG) rules shared by the builder and the validator (QĐ 130/4750 MUC_HUONG
// description): on-route visits whose in-scope cost is under 15 % of the base salary, and visits at a
// commune health station, are paid at 100 %; off-route visits get the card level × the off-route rate.
import type { BenefitPolicy } from '../spec/codelists';
import { Decimal } from './decimal';

export type Route = BenefitPolicy['routeByCategoryFamily'][string];

/** The route family of a MA_DOITUONG_KCB code (1.x on-route, 2 emergency, 3.x off-route, …). */
export function routeOfCategory(policy: BenefitPolicy, category: string | undefined): Route | undefined {
  return category ? policy.routeByCategoryFamily[category.split('.')[0]] : undefined;
}

/** The base salary in force on a day (yyyy-MM-dd or yyyyMMdd…). */
export function baseSalaryOn(policy: BenefitPolicy, day: string): Decimal {
  const iso = /^\d{8}/.test(day) ? `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}` : day.slice(0, 10);
  const entry = [...policy.baseSalaries].reverse().find((s) => s.from <= iso) ?? policy.baseSalaries[0];
  return Decimal.parse(entry.amount);
}

/** The threshold under which an on-route visit is paid at 100 %, or undefined when the total is not under it. */
export function smallCostThreshold(policy: BenefitPolicy, totalInScope: Decimal, day: string): Decimal | undefined {
  const threshold = baseSalaryOn(policy, day).percent(Decimal.of(policy.smallCostPercentOfBaseSalary));
  return totalInScope.compare(threshold) < 0 ? threshold : undefined;
}

// The viewer's translate call: the console's t() on the EMR keys (typed, so a missing key fails the typecheck).
import { t } from '../core/i18n';
import type { EmrKey } from './strings';

export function tx(key: EmrKey, params?: Record<string, string | number>): string {
  return t(key, params);
}

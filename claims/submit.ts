// Submission with idempotency on MA_LK + version: the store lets one attempt start per version at a
// time and only from `ready` or `failed` (failed = certainly not delivered). An answer is kept as a
// receipt; a lost answer after the request went out makes the version `unconfirmed`, which is never
// resent automatically. So retries can repeat a send that did not arrive, never one that did.
import { GatewayAuthError, type GatewayClient, GatewayTransportError } from './gateway/client';
import { type ClaimStatus, type ClaimStore, type ReceiptRow, sha256 } from './store';

export interface SubmitOutcome {
  maLk: string;
  version: number;
  status: ClaimStatus;
  /** Why nothing was sent (already accepted, in progress, unconfirmed, invalid…). */
  skipped?: string;
  receipt?: ReceiptRow;
  /** The failure can be retried (nothing reached the gateway). */
  retryable?: boolean;
}

export class ClaimSubmitter {
  constructor(
    private readonly store: ClaimStore,
    private readonly client: GatewayClient,
  ) {}

  /** Sends the given (default: latest) version of a claim once, if it may be sent. */
  async submit(maLk: string, version?: number): Promise<SubmitOutcome> {
    const row = this.store.get(maLk, version);
    if (!row) return { maLk, version: version ?? 0, status: 'invalid', skipped: `no claim ${maLk}${version ? ` version ${version}` : ''} in the store` };
    const started = this.store.beginSend(row.maLk, row.version);
    if (!started) return { maLk, version: row.version, status: row.status, skipped: skipReason(row.status) };
    const sentAt = new Date().toISOString();
    const endpoint = this.client.endpoints.sendClaim;
    const base = { attempt: started.attempt, kind: 'claim' as const, endpoint, sentAt, envelopeSha256: sha256(started.envelope) };
    try {
      const reply = await this.client.sendClaim(started.envelope);
      const accepted = reply.httpStatus === 200 && reply.maKetQua === '200';
      // HTTP 5xx: the gateway says it failed to process the upload, so sending again is safe.
      const outcome = accepted ? 'accepted' : reply.httpStatus >= 500 ? 'failed' : 'rejected';
      const receipt = this.store.finishSend(row.maLk, row.version, {
        ...base,
        finishedAt: new Date().toISOString(),
        outcome,
        httpStatus: reply.httpStatus,
        maKetQua: reply.maKetQua,
        maGiaoDich: reply.maGiaoDich,
        thoiGianTiepNhan: reply.thoiGianTiepNhan,
        thongDiep: reply.thongDiep ?? (reply.maKetQua ? undefined : reply.body.slice(0, 500)),
      });
      return { maLk, version: row.version, status: outcome, receipt, retryable: outcome === 'failed' };
    } catch (err) {
      const transport = err instanceof GatewayTransportError;
      const outcome = transport && err.delivered === 'unknown' ? 'unconfirmed' : 'failed';
      const receipt = this.store.finishSend(row.maLk, row.version, {
        ...base,
        finishedAt: new Date().toISOString(),
        outcome,
        error: err instanceof GatewayAuthError || transport ? err.message : `unexpected: ${(err as Error).message}`,
      });
      return { maLk, version: row.version, status: outcome, receipt, retryable: outcome === 'failed' };
    }
  }

  /**
   * Sends every latest version that is ready (and, with retryFailed, failed), one at a time, with
   * bounded retries for failures that certainly did not reach the gateway.
   */
  async submitPending(options: { retryFailed?: boolean; maxAttempts?: number; backoffMs?: number; limit?: number } = {}): Promise<SubmitOutcome[]> {
    const statuses: ClaimStatus[] = options.retryFailed === false ? ['ready'] : ['ready', 'failed'];
    const rows = this.store.list({ status: statuses, limit: options.limit ?? 10_000 });
    const out: SubmitOutcome[] = [];
    for (const row of rows) {
      let outcome = await this.submit(row.maLk, row.version);
      for (let attempt = 1; outcome.retryable && attempt < (options.maxAttempts ?? 3); attempt++) {
        await new Promise((r) => setTimeout(r, (options.backoffMs ?? 2000) * 2 ** (attempt - 1)));
        outcome = await this.submit(row.maLk, row.version);
      }
      out.push(outcome);
    }
    return out;
  }
}

function skipReason(status: ClaimStatus): string {
  switch (status) {
    case 'accepted':
      return 'already accepted by the gateway (receipt kept); a correction is a new version';
    case 'sending':
      return 'a send of this version is in progress';
    case 'unconfirmed':
      return 'a previous send may have reached the gateway: check the portal, then confirm received or not received';
    case 'rejected':
      return 'the gateway rejected this version: correct the data and rebuild (a new version), or reopen it';
    case 'invalid':
      return 'the claim has validation errors';
    default:
      return `status ${status}`;
  }
}

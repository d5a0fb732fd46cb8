import { ClaqError } from '../errors.js';

/** Why a safetensors file or claq checkpoint was rejected: one value per rule. */
export type SafetensorsReason =
  | 'file-too-short'
  | 'git-lfs-pointer'
  | 'header-too-large'
  | 'header-out-of-range'
  | 'header-not-utf8'
  | 'header-not-json'
  | 'header-not-object'
  | 'duplicate-name'
  | 'bad-metadata'
  | 'bad-entry'
  | 'unknown-dtype'
  | 'bad-shape'
  | 'bad-offsets'
  | 'offset-out-of-range'
  | 'gap'
  | 'overlap'
  | 'trailing-bytes'
  | 'size-mismatch'
  | 'tensor-not-found'
  | 'wrong-dtype'
  | 'bad-row-range'
  | 'bad-index'
  | 'file-exists'
  | 'closed'
  | 'io'
  | 'bad-checkpoint';

/**
 * Error for an invalid, unreadable or unwritable safetensors file or claq
 * checkpoint. `code` is always 'ERR_CLAQ_SAFETENSORS'; `reason` names the rule
 * broken, `file` the file and `tensor` the tensor concerned (when there is
 * one). The message repeats all three in words.
 */
export class SafetensorsError extends ClaqError {
  readonly reason: SafetensorsReason;
  readonly file: string;
  readonly tensor: string | undefined;
  /** The rule broken, in words, without the file and tensor prefix. */
  readonly detail: string;

  constructor(
    reason: SafetensorsReason,
    file: string,
    tensor: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    const where = tensor === undefined ? file : `${file}, tensor '${tensor}'`;
    super('ERR_CLAQ_SAFETENSORS', `${where}: ${detail} [${reason}]`, options);
    this.name = 'SafetensorsError';
    this.reason = reason;
    this.file = file;
    this.tensor = tensor;
    this.detail = detail;
  }
}

// Counters of one target, named after AIStore's Prometheus metrics (get_count, err_cksum_count, ...).
export class TargetStats {
  getCount = 0;
  getBytes = 0;
  putCount = 0;
  putBytes = 0;
  headCount = 0;
  delCount = 0;
  lstCount = 0;
  errGetCount = 0;
  errPutCount = 0;
  /** Objects whose data or metadata failed checksum validation. */
  errCksum = 0;
  /** Cold GETs of remote (s3://) buckets: fetches started, and bytes stored by the ones that completed. */
  remoteGetCount = 0;
  remoteGetBytes = 0;
}

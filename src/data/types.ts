// The dataset types every part of Tessera shares: what loaders produce and
// backends keep resident. Browser-safe.

/** A labelled image set as bytes: `count` examples of `features` uint8 pixels each. */
export interface DatasetTensors {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  features: number;
}

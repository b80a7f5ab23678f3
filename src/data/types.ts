// The dataset types every part of Tessera shares: what loaders produce and
// backends keep resident. Browser-safe.

/** A labelled image set as bytes: `count` examples of `features` uint8 pixels each, and optionally float targets. */
export interface DatasetTensors {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  features: number;
  /**
   * Float targets for regression losses (and one-hot labels): `targetWidth`
   * floats per example, example-major, `count × targetWidth` in all. Absent
   * for class-id datasets, whose `labels` the classification losses read;
   * a dataset with targets still carries `labels` (zeros where it has no
   * classes).
   */
  targets?: Float32Array;
  targetWidth?: number;
}

/** An in-memory image classification dataset: NHWC float32 images (already normalized) and int labels. */
export interface Split {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

export interface Dataset {
  name: string;
  /** [height, width, channels] */
  shape: [number, number, number];
  numClasses: number;
  train: Split;
  test: Split;
}

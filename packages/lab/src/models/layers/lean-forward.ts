/**
 * Every model of the lab trains with the backend's lean forward (tfjs-backend-onednn `installLeanForward`):
 * tfjs-layers keeps every intermediate layer output alive until the end of a training-mode model call; this frees
 * each one once its last consumer has run (same values; the gradients keep what they need). Imported for its
 * effect by the model builders.
 */
import * as tf from '@tensorflow/tfjs';
import { installLeanForward } from 'tfjs-backend-onednn';

installLeanForward(tf.LayersModel);

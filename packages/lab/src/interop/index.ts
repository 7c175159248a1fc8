/** Weights and eta tables to and from PyTorch (torchvision / timm state_dict names and layouts). */
export * from './torch.js';
export * from './torch-files.js';

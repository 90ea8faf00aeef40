/**
 * @module ml/train/adam
 * The Adam optimiser over one flat parameter vector (Kingma & Ba, 2015).
 */
export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  constructor(
    private readonly params: Float64Array,
    private readonly lr = 1e-3,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }
  step(grad: Float64Array): void {
    this.t++;
    const b1 = 1 - this.beta1 ** this.t;
    const b2 = 1 - this.beta2 ** this.t;
    const { m, v, params } = this;
    for (let i = 0; i < params.length; i++) {
      const gi = grad[i]!;
      m[i] = this.beta1 * m[i]! + (1 - this.beta1) * gi;
      v[i] = this.beta2 * v[i]! + (1 - this.beta2) * gi * gi;
      params[i]! -= (this.lr * (m[i]! / b1)) / (Math.sqrt(v[i]! / b2) + this.eps);
    }
  }
}

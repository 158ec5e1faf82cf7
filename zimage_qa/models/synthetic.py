"""The `synthetic` profile: Z-Image-Turbo's full-size architecture with random bf16 weights, built on a GPU.

Latency and memory of the real architecture without 33 GB of weights: compute does not depend on the
weight values. Configuration from the public model card (see DESIGN.md); quality checks do not apply.
"""

from __future__ import annotations

from typing import Any

from zimage_qa.device import on_cuda
from zimage_qa.errors import QAUsageError
from zimage_qa.models.tokenizer import byte_level_tokenizer

TRANSFORMER_CONFIG: dict[str, Any] = {
    "all_patch_size": (2,),
    "all_f_patch_size": (1,),
    "in_channels": 16,
    "dim": 3840,
    "n_layers": 30,
    "n_refiner_layers": 2,
    "n_heads": 30,
    "n_kv_heads": 30,
    "norm_eps": 1e-5,
    "qk_norm": True,
    "cap_feat_dim": 2560,
    "rope_theta": 256.0,
    "t_scale": 1000.0,
    "axes_dims": [32, 48, 48],
    "axes_lens": [1536, 512, 512],
}
TEXT_ENCODER_CONFIG: dict[str, Any] = {
    "hidden_size": 2560,
    "intermediate_size": 9728,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": True,
}
VAE_CONFIG: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 16,
    "norm_num_groups": 32,
    "sample_size": 1024,
    "scaling_factor": 0.3611,
    "shift_factor": 0.1159,
    "use_quant_conv": False,
    "use_post_quant_conv": False,
}
WEIGHT_SEED = 0


def build_synthetic_pipeline(device: str = "cuda", dtype: Any = None) -> Any:
    """Build the full-size pipeline directly in GPU memory (about 19.3 GiB of bf16 weights)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        ZImagePipeline,
        ZImageTransformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3Model

    if not on_cuda(device) or not torch.cuda.is_available():
        raise QAUsageError(
            "the synthetic profile needs a CUDA GPU and none is visible; "
            "use --qa-model reference on this machine, or run on a GPU host"
        )
    dtype = dtype or torch.bfloat16
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device), torch.random.fork_rng(devices=[torch.device(device)]):
            torch.manual_seed(WEIGHT_SEED)
            transformer = ZImageTransformer2DModel(**TRANSFORMER_CONFIG)
            text_encoder = Qwen3Model(Qwen3Config(**TEXT_ENCODER_CONFIG))
            vae = AutoencoderKL(**VAE_CONFIG)
    finally:
        torch.set_default_dtype(previous)
    with torch.no_grad():
        for module in (transformer, text_encoder, vae):
            for param in module.parameters():
                if param.dtype.is_floating_point:
                    param.mul_(0.5)  # keeps activations finite through 30 random layers
        transformer.x_pad_token.fill_(0.0)
        transformer.cap_pad_token.fill_(0.0)
    for module in (transformer, text_encoder, vae):
        module.eval()
    pipe = ZImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=False),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=byte_level_tokenizer(),
        transformer=transformer,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe

"""The `reference` profile: a tiny Z-Image pipeline made in code from the real diffusers classes.

Seeded random weights, no download, no file outside the package. It runs the real `ZImagePipeline`
code path on a CPU in seconds; its pictures are structured noise, so it cannot render text.
"""

from __future__ import annotations

from typing import Any

from qa.models.tokenizer import byte_level_tokenizer

WEIGHT_SEED = 20251125


def build_reference_pipeline(device: str = "cpu", dtype: Any = None) -> Any:
    """Build the tiny pipeline with weights drawn from a fixed seed (the global RNG is left as it was)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        ZImagePipeline,
        ZImageTransformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3Model

    tokenizer = byte_level_tokenizer()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(WEIGHT_SEED)
        transformer = ZImageTransformer2DModel(
            all_patch_size=(2,), all_f_patch_size=(1,), in_channels=16, dim=64, n_layers=2,
            n_refiner_layers=1, n_heads=2, n_kv_heads=2, norm_eps=1e-5, qk_norm=True, cap_feat_dim=32,
            rope_theta=256.0, t_scale=1000.0, axes_dims=[8, 12, 12], axes_lens=[256, 128, 128],
        )  # fmt: skip
        text_encoder = Qwen3Model(
            Qwen3Config(
                hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                num_key_value_heads=1, head_dim=16, vocab_size=len(tokenizer), max_position_embeddings=1024,
                rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
            )
        )  # fmt: skip
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
            up_block_types=["UpDecoderBlock2D"] * 4, block_out_channels=[8, 8, 16, 16], layers_per_block=1,
            latent_channels=16, norm_num_groups=4, sample_size=256, scaling_factor=0.3611,
            shift_factor=0.1159, use_quant_conv=False, use_post_quant_conv=False, mid_block_add_attention=False,
        )  # fmt: skip
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=False)
    pipe = ZImagePipeline(
        scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, transformer=transformer
    )
    pipe.set_progress_bar_config(disable=True)
    for module in (transformer, text_encoder, vae):
        module.eval()
    if dtype not in (None, torch.float32):
        pipe.to(dtype=dtype)  # built in float32; cast only when asked (diffusers warns about casts)
    return pipe if device == "cpu" else pipe.to(device)

"""The `reference` profile: a tiny Z-Image pipeline made in code from the real diffusers classes.

Seeded random weights, no download, no file outside the package. It runs the real `ZImagePipeline`
code path on a CPU in seconds; its pictures are structured noise, so it cannot render text.

The weights are shaped (`_shape`) so that the picture depends on every stage, as a real model's does;
with plain random init the DiT barely moved the latent and the picture was the VAE of the seed noise:
- the final layer is scaled up so the velocity is O(1) and moves the latent as much as the noise;
- the timestep embedding and the adaLN modulations are scaled up, so the velocity changes with t: a
  schedule with another shift, other sigmas or one step fewer integrates another path;
- the q/k norms and the pre-norms of every block are scaled up (sharp attention, strongly non-linear
  feed-forward), so the flow is sensitive to its input: a slightly different prompt embedding, DiT
  weight or numeric precision ends in a different picture, while the same inputs give the same one;
- the VAE decoder's group norms are scaled up (sharper non-linearities), and its output mixes its
  channels towards a shared (luminance) component and is scaled up, so pictures have light and dark;
- the VAE decoder's last channel group at every width is wired as a reader of the latent's statistics
  (`_shape_vae_reader`), because GroupNorm cancels the latent's scale and offset in a random decoder
  (a 10 % scaling factor or a dropped shift factor moved no measure past its threshold). One channel
  carries the latent's local mean (z / scaling + shift, averaged over channels and 3 x 3) on a large
  offset, its partner a constant: the final GroupNorm of that pair reads (offset - mean) / spread as
  one global number, which the output adds as brightness. The scaling factor moves the spread, the
  shift factor the mean; a slightly other decoder weight moves the large offsets (which nearly cancel)
  and bfloat16 quantises the carried channel (step 2 at 300), while float32 rounding stays 1e-5 of it.
`tests/unit/models/test_reference_breaks.py` proves that breaking each stage fails the golden check.
"""

from __future__ import annotations

import math
from typing import Any

from zimage_qa.models.tokenizer import byte_level_tokenizer

WEIGHT_SEED = 20251125

# Multipliers applied to the seeded random init (see the module docstring); data, not code paths, so a
# saved and reloaded pipeline makes the same pictures.
DIT_FINAL_GAIN = 6.0  # all_final_layer.*.linear: velocity O(1)
DIT_TIME_GAIN = 4.0  # t_embedder output layer: the modulation depends on t
DIT_ADALN_GAIN = 3.0  # every adaLN modulation
# The two gains below set how sensitive the flow is to its input. At 2.5 a 1-3 % change upstream (DiT
# weight, output scale, bf16, prompt) ends in another picture, while 1e-6 of latent noise (far above
# another CPU's float32 rounding) moves pixels by 0.45 levels on average, well inside rerun tolerance.
# At 2.0 subtle breaks passed; at 3.0 the flow is chaotic (1e-7 of latent noise moved 7 levels).
DIT_QK_GAIN = 2.5  # attention q/k RMSNorm weights: sharp attention
DIT_PRENORM_GAIN = 2.5  # attention_norm1 / ffn_norm1 weights: non-linear blocks
VAE_LUMA_MIX = 0.85  # share of the decoder's conv_out taken from the channel mean (light and dark)
VAE_OUT_GAIN = 3.0  # decoder conv_out: contrast
VAE_NORM_GAIN = 4.0  # decoder GroupNorm weights (not the last): sharp non-linearities, scale shows
# The VAE's statistics reader (`_shape_vae_reader`); values in the decoder's own units.
VAE_READER_WEIGHT = 1.6  # conv_in weight of the carried latent mean: spread ~1 at the final norm
VAE_READER_OFFSET = 300.3  # offset it rides on: bf16 steps of 2 there; not a bf16 or fp16 number
VAE_READER_CENTRE = 1.6  # the constant partner sits this far above: the reader reads ~0.5
VAE_READER_LEVEL = 0.48  # the reader's value on typical latents (taken out by the output bias)
VAE_READER_BIAS = 2.0  # GroupNorm bias of the reader: the SiLU after it is near linear
VAE_READER_GAIN = 1.5  # output gain of the reader: 0.1 of it is ~19 levels of brightness


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
            all_patch_size=(2,),
            all_f_patch_size=(1,),
            in_channels=16,
            dim=64,
            n_layers=2,
            n_refiner_layers=1,
            n_heads=2,
            n_kv_heads=2,
            norm_eps=1e-5,
            qk_norm=True,
            cap_feat_dim=32,
            rope_theta=256.0,
            t_scale=1000.0,
            axes_dims=[8, 12, 12],
            axes_lens=[256, 128, 128],
        )
        text_encoder = Qwen3Model(
            Qwen3Config(
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=2,
                num_key_value_heads=1,
                head_dim=16,
                vocab_size=len(tokenizer),
                max_position_embeddings=1024,
                rms_norm_eps=1e-6,
                rope_theta=1000000.0,
                tie_word_embeddings=True,
            )
        )
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=["DownEncoderBlock2D"] * 4,
            up_block_types=["UpDecoderBlock2D"] * 4,
            block_out_channels=[8, 8, 16, 16],
            layers_per_block=1,
            latent_channels=16,
            norm_num_groups=4,
            sample_size=256,
            scaling_factor=0.3611,
            shift_factor=0.1159,
            use_quant_conv=False,
            use_post_quant_conv=False,
            mid_block_add_attention=False,
        )
        _shape(transformer, vae)
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


def _shape(transformer: Any, vae: Any) -> None:
    """Scale the random init in place so that every stage shows in the picture (module docstring)."""
    import torch

    with torch.no_grad():
        for name, weight in transformer.named_parameters():
            weight.mul_(_dit_gain(name))
        for name, weight in vae.decoder.named_parameters():
            if ".norm" in name and name.endswith("weight"):
                weight.mul_(VAE_NORM_GAIN)
        conv_out = vae.decoder.conv_out.weight
        conv_out.copy_((1 - VAE_LUMA_MIX) * conv_out + VAE_LUMA_MIX * conv_out.mean(0, keepdim=True))
        conv_out.mul_(VAE_OUT_GAIN)
        _shape_vae_reader(vae.decoder, vae.config.norm_num_groups)


def _shape_vae_reader(decoder: Any, groups: int) -> None:
    """Wire the last GroupNorm group of every width as the statistics reader (module docstring).

    Its first channel (A) carries the latent's local mean on a large offset, its second (B) a constant,
    the others are zero; both pass every upsampler and the shortcut unchanged (centre tap 1), no branch
    writes into them, and no other channel reads them except through a norm. At the final GroupNorm the
    pair (A, B) is one group: B comes out as (B - mean) / spread, a global number, added as brightness.
    """
    import torch

    def reader(channels: int) -> list[int]:
        return list(range(channels - channels // groups, channels))

    for name, conv in decoder.named_modules():
        if not isinstance(conv, torch.nn.Conv2d) or name in ("conv_in", "conv_out") or name.endswith("conv1"):
            continue
        rows, cols = reader(conv.out_channels), reader(conv.in_channels)
        conv.weight[rows] = 0.0
        if conv.bias is not None:  # every decoder conv has one
            conv.bias[rows] = 0.0
        if name.endswith("conv2"):
            continue  # a resnet branch: adds nothing to the reader
        others = [row for row in range(conv.out_channels) if row not in rows]
        for row in others:
            conv.weight[row, cols] = 0.0  # nothing else reads the large offsets
        centre = conv.kernel_size[0] // 2
        for source, target in zip(cols[:2], rows[:2], strict=True):
            conv.weight[target, source, centre, centre] = 1.0
    conv_in, first = decoder.conv_in, reader(decoder.conv_in.out_channels)
    conv_in.weight[first] = 0.0
    conv_in.bias[first] = 0.0
    conv_in.weight[first[0]] = VAE_READER_WEIGHT / conv_in.weight[0].numel()
    conv_in.bias[first[0]] = VAE_READER_OFFSET
    conv_in.bias[first[1]] = VAE_READER_OFFSET + VAE_READER_CENTRE
    a, b = reader(decoder.conv_norm_out.num_channels)[:2]
    decoder.conv_norm_out.bias[a] = 0.0
    decoder.conv_norm_out.bias[b] = VAE_READER_BIAS
    out = decoder.conv_out
    out.weight[:, a] = 0.0
    out.weight[:, b] = VAE_READER_GAIN / out.weight[0, 0].numel()
    level = VAE_READER_BIAS + VAE_READER_LEVEL
    out.bias.sub_(VAE_READER_GAIN * level / (1 + math.exp(-level)))


def _dit_gain(name: str) -> float:
    if name.endswith(("norm_q.weight", "norm_k.weight")):
        return DIT_QK_GAIN
    if name.endswith(("attention_norm1.weight", "ffn_norm1.weight")):
        return DIT_PRENORM_GAIN
    if "adaLN_modulation" in name and name.endswith("weight"):
        return DIT_ADALN_GAIN
    if name == "t_embedder.mlp.2.weight":
        return DIT_TIME_GAIN
    if name.startswith("all_final_layer") and ".linear.weight" in name:
        return DIT_FINAL_GAIN
    return 1.0

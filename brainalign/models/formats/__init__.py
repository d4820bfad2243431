"""The built-in checkpoint formats, one module each; every module registers its format when imported.

Adding a format is one new module here (or in a plugin package, see
:mod:`brainalign.models.checkpoint_formats`) that calls
:func:`~brainalign.models.checkpoint_formats.register_format`; the registry imports every module
of this package on its first lookup (modules are named after the codebase; ``brainalign_train``
and ``timm_train`` register ``brainalign`` and ``timm``). Detection asks the formats from the
highest priority down::

    priority  format (aliases)        entry: backbone prefix                        dropped
    130       vissl                   classy_state_dict.base_model.model.trunk:      heads (beside the trunk)
                                      _feature_blocks.
    120       dino                    teacher (else student): backbone.              head.
    110       mouse_vision (nayebi)   model_state_dict: as is                        the other *_state_dict entries
    100       brainalign              model: as is                                   - (heads live in state.pt)
     90       moco                    state_dict: encoder_q.                         encoder_q.fc, encoder_k., queue
     80       mocov3                  state_dict: base_encoder.                      base_encoder.fc/head,
                                                                                     momentum_encoder., predictor.
     70       simsiam                 state_dict: encoder.                           encoder.fc, predictor.
     60       lightly                 state_dict (or the dict): backbone.            projection_head., prediction_head.,
                                                                                     online_classifier., *_momentum.
     50       solo-learn (lightning)  state_dict: backbone. / encoder.               projector., predictor.,
                                                                                     classifier., momentum_*
     40       barlowtwins (vicreg)    model (or the dict): backbone.                 projector., bn.
     30       simclr                  state_dict (or the dict): backbone./encoder.   backbone.fc, projector.
     20       timm                    state_dict_ema, state_dict: as is              -
      0       plain (torchvision)     the dict (or state_dict, model): as is         -

Lightly's ``backbone.N.`` indices (``nn.Sequential(*resnet.children()[:-1])``) are renamed to the
model's child names when the weights are applied (see
:func:`brainalign.models.checkpoint.apply_checkpoint`).
"""

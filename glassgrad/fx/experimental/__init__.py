"""``torch.fx.experimental``: only ``proxy_tensor.make_fx``'s name, for code importing it."""

"""``torch.utils.data._utils.worker``: the loading worker's record. glassgrad loads in the main
process, so ``_worker_info`` stays ``None`` (code that resets it after a thread, as MONAI's
``ThreadDataLoader``, finds it)."""

from glassgrad.data.dataloader import get_worker_info

__all__ = ["get_worker_info"]

_worker_info = None

_M32 = 0xFFFFFFFF


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words PyTorch seeds a worker's NumPy generator with: NumPy's ``SeedSequence``
    hashing of ``[worker_id, low32(base_seed), high32(base_seed), 0]``, so that code reusing it
    (tensordict's per-worker seeding) draws the same numbers as under PyTorch."""
    mult = [0x43B0D7E5]

    def hashmix(value: int) -> int:
        value = (value ^ mult[0]) & _M32
        mult[0] = (mult[0] * 0x931E8875) & _M32
        value = (value * mult[0]) & _M32
        return (value ^ (value >> 16)) & _M32

    def mix(x: int, y: int) -> int:
        r = ((0xCA01F9DD * x) - (0x4973F715 * y)) & _M32
        return (r ^ (r >> 16)) & _M32

    pool = [hashmix(v) for v in (worker_id, base_seed & _M32, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    out, mult_b = [], 0x8B51F9DD
    for word in pool:
        word = (word ^ mult_b) & _M32
        mult_b = (mult_b * 0x58F38DED) & _M32
        word = (word * mult_b) & _M32
        out.append((word ^ (word >> 16)) & _M32)
    return out

from simulator.peers.simulcast.congestion import LayerBudget

LAYERS = [150_000, 500_000, 1_500_000]  # lowest first


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_janus_start_up_ramp_switches_no_layer_off() -> None:
    clock = _Clock()
    budget = LayerBudget(LAYERS, clock)
    for share in (4, 3, 2, 1):  # what Janus sends on the first four packets
        budget.on_remb(3_000_000 // share)
        clock.now += 0.01
        assert budget.update() == 3


def test_a_lasting_low_remb_switches_the_top_layers_off_and_they_come_back_one_by_one() -> None:
    clock = _Clock()
    budget = LayerBudget(LAYERS, clock)
    budget.on_remb(700_000)
    for _ in range(60):  # 0.6 s
        clock.now += 0.01
        budget.update()
    assert budget.active == 2
    budget.on_remb(200_000)
    for _ in range(60):
        clock.now += 0.01
        budget.update()
    assert budget.active == 1
    budget.on_remb(3_000_000)
    clock.now += 0.1
    assert budget.update() == 1  # not at once: the estimate must hold a while
    clock.now += 2.05
    assert budget.update() == 2
    clock.now += 0.1
    budget.update()
    clock.now += 2.05
    assert budget.update() == 3


def test_heavy_loss_lowers_the_estimate_below_what_is_sent() -> None:
    clock = _Clock()
    budget = LayerBudget(LAYERS, clock)
    budget.on_loss(0.30, 2_150_000)
    assert budget.estimate_bps is not None
    assert budget.estimate_bps < 2_150_000
    assert budget.allowed() == 2
    for _ in range(30):  # loss gone: the estimate grows again, then stops limiting
        clock.now += 1.0
        budget.on_loss(0.0, 2_150_000)
    assert budget.estimate_bps is None
    assert budget.allowed() == 3


def test_the_lowest_layer_is_never_switched_off() -> None:
    clock = _Clock()
    budget = LayerBudget(LAYERS, clock)
    budget.on_remb(10_000)
    clock.now += 1.0
    budget.update()
    clock.now += 1.0
    assert budget.update() == 1

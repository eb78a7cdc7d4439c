"""The read model of shadow mode's live state: ``load_view`` on a twin-shadow folder converts the newest
checkpoint (``network_state_from_live``) and answers from it; without the shadow's config it says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from tests.helpers.live import make_feed, run_shadow, shadow_overrides
from twin.cli import CONFIG_DIR
from twin.views import ViewLoadError, load_view

TINY = ["debug=default"]


def test_a_shadow_folder_is_read_as_the_day_after_its_last_closed_day(tmp_path: Path) -> None:
    make_feed(tmp_path / "feed", horizon_days=6, overrides=TINY)
    overrides = [*shadow_overrides(tmp_path / "feed", horizon_days=6), *TINY]
    run_shadow(tmp_path / "shadow", overrides)
    with pytest.raises(ViewLoadError, match=r"resolved_config\.yaml"):
        load_view(tmp_path / "shadow")
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("shadow", overrides=overrides)
    (tmp_path / "shadow" / "resolved_config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    view = load_view(tmp_path / "shadow")
    assert view.source.startswith("live state ") and view.day >= 1
    assert not view.has("settlement") and view.statement(view.dealer_ids[0]) is None
    on_hand = np.asarray(view.state.arrays["parts:on_hand"])
    for dealer_id in view.dealer_ids:
        parts = view.parts(dealer_id)
        index = view.dealer_index(dealer_id)
        assert parts["on_hand"].sum() == on_hand[index].sum()

import pytest

from locas_engine import parse_layers


def test_layer_specs():
    assert parse_layers("all", 30) is None and parse_layers(None, 30) is None
    assert parse_layers("15-29", 30) == list(range(15, 30))
    assert parse_layers("0,4,8-10", 30) == [0, 4, 8, 9, 10]


@pytest.mark.parametrize("spec", ["x", "3-", "28-31", "-1"])
def test_bad_layer_specs_are_sentences(spec):
    with pytest.raises(ValueError, match="layer"):
        parse_layers(spec, 30)

"""The public surface is exactly ``zmr.__all__``."""

import zmr


def test_all_lists_the_public_names():
    public = sorted(n for n in vars(zmr) if not n.startswith("_") and n[0].isupper()
                    or n in ("increment_counter", "run_inline"))
    assert sorted(zmr.__all__) == public

from gridmap.migrate import heads


def test_alembic_has_exactly_one_head():
    assert len(heads()) == 1

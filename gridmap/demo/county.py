"""The demo county's fixed choices: which county, which townships, where the deliberate gaps are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGIONS_FILE = ROOT / "data" / "regions" / "532329.csv"
COUNTY_CODE = "532329"  # 武定县
SHISHAN, CHADIAN, TIANXIN = "532329101", "532329104", "532329202"  # 狮山镇, 插甸镇, 田心乡

# The deliberate gaps, fixed so tests and the README can name them.
VILLAGE_WITHOUT_LEADER = "532329104205"  # 插甸镇 增益村: no 包村 leader
UNCOVERED_VILLAGE = "532329104202"  # 插甸镇 安德村: people live where no grid is drawn
BRANCH_WITHOUT_CADRE = "532329202"  # first branch of 田心乡 has no 包支部 cadre

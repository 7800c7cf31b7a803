"""Fake but realistic-looking people, units and appeals for the demo county."""

from __future__ import annotations

import random

from gridmap import settings
from gridmap.importers.fields import id_check_digit

# Surnames by 民族, weighted. 楚雄彝族自治州's 武定县 is home to large Yi, Lisu and Miao
# populations besides the Han; Yi, Lisu and Miao families mostly carry Han surnames
# (李, 张, 杨 …), a few carry their own (普, 自, 毕 …). The weights are plausible
# shares for the demo, not census figures.
SURNAMES_BY_ETHNICITY = {
    "han": {"李": 80, "王": 70, "张": 70, "杨": 60, "刘": 40, "陈": 40, "赵": 30, "罗": 30, "周": 20,
            "黄": 20, "吴": 20, "朱": 20, "何": 20, "段": 20, "施": 15, "马": 12, "孙": 10,
            "高": 10, "郭": 10, "胡": 10, "谢": 10, "苏": 10, "钱": 8, "许": 8, "邓": 8, "唐": 8,
            "付": 8, "鲍": 6, "范": 6, "蒋": 6, "方": 5, "汤": 5, "田": 5, "余": 5, "龙": 5},
    "yi": {"李": 140, "张": 80, "罗": 60, "杨": 60, "普": 60, "王": 40, "自": 40, "毕": 30,
           "起": 30, "鲁": 30, "何": 30, "者": 20, "沙": 20, "龙": 20, "苏": 20, "施": 20,
           "字": 20, "朱": 20, "陈": 20, "周": 10, "刘": 10},
    "lisu": {"李": 120, "余": 80, "胡": 60, "杨": 50, "罗": 40, "张": 40, "熊": 30, "和": 30,
             "王": 30, "麻": 20, "普": 20, "谷": 10},
    "miao": {"王": 100, "张": 80, "杨": 70, "熊": 60, "陶": 50, "李": 40, "马": 30, "龙": 30,
             "吴": 20, "韩": 20, "朱": 20, "潘": 10},
    "dai": {"刀": 40, "李": 30, "杨": 20, "王": 20, "罗": 20},
    "hui": {"马": 100, "纳": 30, "沙": 30, "杨": 20, "李": 20},
}
# Shares of households by 民族 (han, yi, lisu, miao, dai, hui): the county seat is mostly
# Han; the mountain townships mostly Yi and Lisu; 东坡傣族乡 has its Dai.
ETHNICITIES = ("han", "yi", "lisu", "miao", "dai", "hui")
ETHNIC_SHARES = {
    None: (45, 30, 14, 7, 1, 3),
    "532329101": (68, 18, 5, 5, 0, 4), "532329104": (38, 32, 10, 18, 0, 2),
    "532329202": (34, 40, 12, 12, 0, 2), "532329203": (22, 48, 26, 3, 0, 1),
    "532329207": (25, 45, 25, 4, 0, 1), "532329208": (24, 36, 28, 2, 9, 1),
    "532329106": (28, 40, 28, 3, 0, 1), "532329107": (30, 38, 28, 3, 0, 1),
}
GIVEN_MALE = "国建明永正文忠志强学武海德福成伟林光荣家兴发顺贵才勇军斌涛洪华云平春昌富"
GIVEN_FEMALE = "秀兰芳丽玉梅英珍莲桂花琼翠艳萍红燕敏娟霞仙芬凤美云华春琴"
PHONE_PREFIXES = ("138", "139", "135", "136", "137", "150", "151", "152", "157", "158", "159",
                  "182", "183", "187", "188", "133", "153", "180", "181", "189", "177", "199")
HAMLET_PARTS = ("大", "小", "上", "下", "新", "老", "中", "后", "前", "高")
HAMLET_ROOTS = ("村", "箐", "坡", "田", "河边", "山", "地", "庄", "沟", "坝", "塘", "营", "寨",
                "松树", "麦地", "核桃", "栗树", "龙潭", "石板", "水井")

COUNTY_AGENCIES = (
    "中共武定县委办公室", "武定县人民政府办公室", "中共武定县委组织部", "中共武定县委宣传部",
    "中共武定县委政法委员会", "武定县发展和改革局", "武定县财政局", "武定县教育体育局",
    "武定县卫生健康局", "武定县农业农村局", "武定县自然资源局", "武定县住房和城乡建设局",
    "武定县交通运输局", "武定县水务局", "武定县民政局", "武定县人力资源和社会保障局",
    "武定县公安局", "武定县司法局", "武定县市场监督管理局", "武定县应急管理局",
    "武定县林业和草原局", "楚雄州生态环境局武定分局", "武定县医疗保障局", "武定县退役军人事务局",
    "武定县信访局", "武定县审计局", "武定县统计局", "武定县文化和旅游局",
    "武定县人大常委会办公室", "政协武定县委员会办公室", "武定县社会治理综合服务中心",
)
ENTERPRISES = (
    "云南电网有限责任公司武定供电局", "中国移动通信集团云南有限公司武定分公司",
    "中国电信股份有限公司武定分公司", "武定县自来水有限责任公司", "云南武定农村商业银行",
    "中国邮政集团有限公司武定县分公司", "武定县城市建设投资开发有限公司", "武定县人民医院",
)
# A township's 站所 (the section-level units that 包组 and handle issues). The order keeps
# the unit codes the demo users name (…S08 农业农村综合服务中心); the 综治中心 runs the grids.
SECTION_UNITS = ("派出所", "司法所", "财政所", "林业和草原服务中心", "卫生院", "中心学校",
                 "自然资源所", "农业农村综合服务中心", "市场监督管理所", "供电所", "水务站",
                 "退役军人服务站", "综治中心", "社会保障服务中心", "便民服务中心")
# The county leadership (县处级领导), by rank, with the office each sits in (an index
# into COUNTY_AGENCIES): exactly one 县委书记 and one 县长.
LEADERS = (
    ("县委书记", 0), ("县委副书记、县长", 1), ("县委副书记", 0), ("县委常委、常务副县长", 1),
    ("县委常委、组织部部长", 2), ("县委常委、宣传部部长", 3), ("县委常委、政法委书记", 4),
    ("县委常委、纪委书记、监委主任", 0), ("县委常委、县委办主任", 0), ("县委常委、统战部部长", 0),
    ("副县长", 1), ("副县长", 1), ("副县长", 1), ("副县长", 1), ("副县长、公安局局长", 16),
    ("县人大常委会主任", 28), ("县人大常委会副主任", 28), ("县人大常委会副主任", 28),
    ("县政协主席", 29), ("县政协副主席", 29), ("县政协副主席", 29),
)
STAFF_TITLES = ("科员", "干部", "职工", "股长", "副股长", "四级主任科员", "一级科员", "教师",
                "医生", "办事员", "站长", "副所长")


def head_title(agency: str) -> str:
    """The title of an agency's head: 局长, 主任, 部长 …"""
    for suffix, title in (("分局", "局长"), ("局", "局长"), ("办公室", "主任"), ("中心", "主任"),
                          ("组织部", "常务副部长"), ("宣传部", "常务副部长"),
                          ("政法委员会", "常务副书记")):
        if agency.endswith(suffix):
            return title
    return "主要负责人"


# category: (handling limit in days, county agency that owns it, township section unit, titles)
ISSUE_CATEGORIES = {
    "道路破损": (10, "武定县交通运输局", "农业农村综合服务中心",
             ("{place}村道路面坑洼，雨天积水难行", "{place}进村道路塌方，车辆无法通行", "{place}便民桥护栏损坏")),
    "饮水安全": (5, "武定县水务局", "水务站",
             ("{place}自来水浑浊，群众担心饮水安全", "{place}饮水管道破裂，停水两天", "{place}水池水量不足")),
    "邻里纠纷": (7, "武定县司法局", "综治中心",
             ("{place}两户因宅基地界线发生争执", "{place}邻里因排水沟问题发生纠纷", "{place}因牲畜损坏庄稼引发矛盾")),
    "低保申请": (15, "武定县民政局", "社会保障服务中心",
             ("{place}村民申请纳入低保", "{place}独居老人咨询低保办理", "{place}因病致贫家庭申请救助")),
    "环境卫生": (5, "楚雄州生态环境局武定分局", "农业农村综合服务中心",
             ("{place}垃圾堆放点长期未清运", "{place}沟渠淤塞、污水横流", "{place}公厕无人管护")),
    "路灯损坏": (7, "云南电网有限责任公司武定供电局", "供电所",
             ("{place}路灯不亮，夜间出行不便", "{place}太阳能路灯损坏", "{place}电线杆倾斜存在隐患")),
    "土地纠纷": (15, "武定县自然资源局", "自然资源所",
             ("{place}承包地边界争议", "{place}林地权属有争议", "{place}土地流转租金未按时支付")),
    "医疗救助": (10, "武定县医疗保障局", "卫生院",
             ("{place}大病患者咨询医疗救助", "{place}医保报销遇到困难", "{place}慢性病卡办理求助")),
    "危房改造": (15, "武定县住房和城乡建设局", "农业农村综合服务中心",
             ("{place}土坯房墙体开裂", "{place}雨季房屋漏雨严重", "{place}申请农村危房改造")),
    "就业求助": (10, "武定县人力资源和社会保障局", "社会保障服务中心",
             ("{place}返乡青年求职", "{place}务工工资被拖欠", "{place}咨询技能培训")),
    "农田灌溉": (10, "武定县水务局", "水务站",
             ("{place}灌溉沟渠渗漏", "{place}抽水泵站故障，秧田缺水", "{place}小水窖需要维修")),
    "治安隐患": (3, "武定县公安局", "派出所",
             ("{place}夜间有陌生车辆徘徊", "{place}学校周边摩托车飙车", "{place}电动车被盗")),
    "教育助学": (10, "武定县教育体育局", "中心学校",
             ("{place}学生上学路途远无校车", "{place}困难学生申请助学金", "{place}留守儿童学习无人辅导")),
    "森林防火": (3, "武定县林业和草原局", "林业和草原服务中心",
             ("{place}林区有人野外用火", "{place}防火通道杂草丛生", "{place}护林员巡护缺人")),
    "地质灾害隐患": (3, "武定县自然资源局", "自然资源所",
               ("{place}后山出现裂缝，担心滑坡", "{place}雨后路边落石", "{place}房后边坡垮塌")),
}
# 三必看、三必问、三必留: the settings' default items, so demo visits carry what the form records.
CHECKLIST = {group: tuple(items) for group, items in settings.defaults()["visit"]["checklist"].items()}
DISABILITY_CATEGORIES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")


def ethnicity(rnd: random.Random, township_code: str | None) -> str:
    return rnd.choices(ETHNICITIES, ETHNIC_SHARES.get(township_code, ETHNIC_SHARES[None]))[0]


def person_name(rnd: random.Random, male: bool | None = None, ethnic: str = "han") -> str:
    """A name whose surname is drawn by 民族 and whose given name fits the person's sex."""
    male = rnd.random() < 0.5 if male is None else male
    surnames = SURNAMES_BY_ETHNICITY[ethnic]
    given = GIVEN_MALE if male else GIVEN_FEMALE
    return (rnd.choices(tuple(surnames), tuple(surnames.values()))[0]
            + "".join(rnd.choice(given) for _ in range(rnd.choice((1, 2, 2)))))


def phone(rnd: random.Random) -> str:
    return rnd.choice(PHONE_PREFIXES) + f"{rnd.randrange(10**8):08d}"


def id_number(rnd: random.Random, area_code: str, male: bool | None = None,
              year: int | None = None) -> str:
    """An 18-digit ID number with this area's prefix, the sex and year given, a correct check digit."""
    year = year or rnd.randint(1940, 2004)
    month, day = rnd.randint(1, 12), rnd.randint(1, 28)
    serial = rnd.randrange(500) * 2 + (1 if (male if male is not None else rnd.random() < 0.5) else 0)
    first17 = f"{area_code}{year:04d}{month:02d}{day:02d}{serial:03d}"
    return first17 + id_check_digit(first17)


def hamlet_name(rnd: random.Random, taken: set[str]) -> str:
    while True:
        name = rnd.choice(HAMLET_PARTS) + rnd.choice(HAMLET_ROOTS)
        if name not in taken:
            taken.add(name)
            return name


def short_region_name(official: str) -> str:
    """`插甸村民委员会` → `插甸村`, `东岳社区居民委员会` → `东岳社区`."""
    for suffix, short in (("社区居民委员会", "社区"), ("居民委员会", "社区"), ("村民委员会", "村")):
        if official.endswith(suffix):
            return official[: -len(suffix)] + short
    return official

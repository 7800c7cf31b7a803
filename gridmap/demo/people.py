"""Fake but realistic-looking people, units and appeals for the demo county."""

from __future__ import annotations

import random

from gridmap.importers.fields import id_check_digit

# Common surnames in 楚雄 (Han and Yi: 普, 自, 毕, 起, 鲁, 者 ...)
SURNAMES = ("李", "王", "张", "杨", "刘", "陈", "赵", "周", "罗", "普", "自", "毕", "起", "鲁",
            "者", "施", "段", "何", "马", "沙", "黄", "吴", "朱", "孙", "高", "苏", "字", "鲍",
            "郭", "胡", "谢", "余", "龙", "范", "蒋", "方", "汤", "田")
GIVEN = "国华建明永春秀兰正文忠平红芳丽云志强学武海玉梅德福成伟林英光荣家兴发顺贵珍莲桂顺才勇军"
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
)
ENTERPRISES = (
    "云南电网有限责任公司武定供电局", "中国移动通信集团云南有限公司武定分公司",
    "中国电信股份有限公司武定分公司", "武定县自来水有限责任公司", "云南武定农村商业银行",
    "中国邮政集团有限公司武定县分公司", "武定县城市建设投资开发有限公司", "武定县人民医院",
)
SECTION_UNITS = ("派出所", "司法所", "财政所", "林业和草原服务中心", "卫生院", "中心学校",
                 "自然资源所", "农业农村综合服务中心", "市场监督管理所", "供电所", "水务站",
                 "退役军人服务站")
LEADER_TITLES = ("县委书记", "县长", "县委副书记", "常务副县长", "县委常委、组织部部长",
                 "县委常委、宣传部部长", "县委常委、政法委书记", "副县长", "县人大常委会主任",
                 "县人大常委会副主任", "县政协主席", "县政协副主席", "县委常委、县委办主任",
                 "县委常委、纪委书记", "县委常委、常务副县长")
STAFF_TITLES = ("科员", "干部", "职工", "股长", "副股长", "四级主任科员", "一级科员", "教师",
                "医生", "办事员", "站长", "副所长")

# category: (handling limit in days, county agency that owns it, township section unit, titles)
ISSUE_CATEGORIES = {
    "道路破损": (10, "武定县交通运输局", "农业农村综合服务中心",
             ("{place}村道路面坑洼，雨天积水难行", "{place}进村道路塌方，车辆无法通行", "{place}便民桥护栏损坏")),
    "饮水安全": (5, "武定县水务局", "水务站",
             ("{place}自来水浑浊，群众担心饮水安全", "{place}饮水管道破裂，停水两天", "{place}水池水量不足")),
    "邻里纠纷": (7, "武定县司法局", "司法所",
             ("{place}两户因宅基地界线发生争执", "{place}邻里因排水沟问题发生纠纷", "{place}因牲畜损坏庄稼引发矛盾")),
    "低保申请": (15, "武定县民政局", "财政所",
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
    "就业求助": (10, "武定县人力资源和社会保障局", "农业农村综合服务中心",
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
VISIT_NOTES = ("家中一切正常", "老人身体状况良好，已提醒按时服药", "反映进村道路需要维修",
               "了解到孩子上学路途较远", "宣传森林防火和防溺水知识", "协助办理医保缴费",
               "家庭收入稳定，外出务工 2 人", "住房安全，饮水正常", "询问低保政策，已解释",
               "提醒做好雨季防汛准备", "讲解惠民政策", "帮助联系技能培训")
CHECKLIST = {"look": ("housing", "living", "health"), "ask": ("needs", "difficulties", "opinions"),
             "leave": ("contact_card", "service_promise", "record")}
DISABILITY_CATEGORIES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")


def person_name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2, 2))))


def phone(rnd: random.Random) -> str:
    return rnd.choice(PHONE_PREFIXES) + f"{rnd.randrange(10**8):08d}"


def id_number(rnd: random.Random, area_code: str, male: bool | None = None) -> str:
    """An 18-digit ID number with this county's prefix and a correct check digit."""
    year, month, day = rnd.randint(1940, 2004), rnd.randint(1, 12), rnd.randint(1, 28)
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

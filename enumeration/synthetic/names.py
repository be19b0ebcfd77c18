"""Word lists for the synthetic district: family names, given-name characters, place-name stems.

Family names are the most common ones in China, in rough order of frequency; given names are drawn from
characters common in names of each sex. Place-name stems are towns and villages of the Yibin area; the
codes the generator gives them are synthetic and are not the official 统计用区划代码.
"""

from __future__ import annotations

SURNAMES: tuple[str, ...] = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Heavier weights for the first names of the list, as in the real distribution.
SURNAME_WEIGHTS: tuple[float, ...] = tuple(1.0 / (1 + index * 0.08) for index in range(len(SURNAMES)))

GIVEN_MALE: tuple[str, ...] = tuple("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋建国志文")
GIVEN_FEMALE: tuple[str, ...] = tuple("芳娜敏静丽艳娟霞燕玲桂英秀兰红梅琳婷雪慧洁颖倩莉萍琴云丹璐晶欣怡")
GIVEN_ANY: tuple[str, ...] = tuple("小子晓思雨佳嘉家春海天玉德永成")

TOWN_STEMS: tuple[str, ...] = (
    "柏溪",
    "南岸",
    "赵场",
    "观音",
    "横江",
    "商州",
    "高场",
    "安边",
    "双龙",
    "蕨溪",
    "泥溪",
    "合什",
    "喜捷",
    "宗场",
    "樟海",
    "复龙",
    "龙池",
    "柳嘉",
    "凤仪",
    "白花",
    "隆兴",
    "日成",
    "李场",
    "月江",
    "古柏",
    "永兴",
    "金坪",
    "大塔",
    "明威",
    "双河",
    "越溪",
    "仙临",
    "孔滩",
    "新场",
    "蕉村",
    "漆树",
    "高店",
    "九龙",
    "长江",
)
VILLAGE_STEMS: tuple[str, ...] = (
    "桂花",
    "青龙",
    "白鹤",
    "金竹",
    "石门",
    "红岩",
    "团结",
    "新民",
    "长岭",
    "黄桷",
    "杨柳",
    "松林",
    "大坪",
    "双堰",
    "高峰",
    "永乐",
    "和平",
    "先锋",
    "光明",
    "向阳",
    "花园",
    "碧水",
    "丰收",
    "民主",
    "凉水",
    "观音",
    "龙泉",
    "油坊",
    "茶园",
    "竹林",
    "枫木",
    "梨园",
    "桃源",
    "兴隆",
    "大湾",
    "小河",
    "柑子",
    "柿子",
    "瓦窑",
    "响水",
    "鹿鸣",
    "天池",
    "银杏",
    "凤凰",
    "狮子",
    "马鞍",
    "河坝",
    "平安",
    "新华",
    "胜利",
    "联合",
    "建设",
)
STREET_STEMS: tuple[str, ...] = (
    "滨江",
    "江北",
    "南山",
    "翠屏",
    "金沙",
    "新城",
    "临港",
    "城北",
    "文星",
    "锦绣",
    "莲花",
    "东升",
)
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("tjj", "区统计局"),
    ("jkj", "区经济和科技信息化局（经科局）"),
    ("fgj", "区发展和改革局（发改局）"),
    ("zjj", "区住房和城乡建设局（住建局）"),
    ("gaj", "区公安分局"),
    ("wjj", "区卫生健康局"),
    ("mzj", "区民政局"),
    ("xcb", "区委宣传部"),
    ("czj", "区财政局"),
)
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("宜宾某酒业有限公司 白酒", "酿酒工"),
    ("叙州区人民医院 医疗", "护士"),
    ("某建筑工程公司 房屋建筑", "砌筑工"),
    ("自家承包地 水稻、油菜", "农业生产人员"),
    ("某物流公司 货物运输", "货车司机"),
    ("某小学 教育", "小学教师"),
    ("个体餐馆 餐饮", "厨师"),
    ("某电子科技公司 手机零部件", "装配工"),
    ("镇人民政府 公共管理", "办事员"),
    ("某超市 零售", "营业员"),
    ("自家茶园 茶叶", "茶农"),
    ("某竹木制品厂 竹制品", "竹编工"),
)
FOREIGN_NATIONALITIES: tuple[str, ...] = ("KOR", "USA", "JPN", "VNM", "MMR", "GBR", "DEU", "LAO")
# County codes of hukou places outside the district: Sichuan neighbours first, then other provinces.
OTHER_COUNTIES: tuple[str, ...] = (
    "511502",
    "511503",
    "511523",
    "511524",
    "511525",
    "511526",
    "511527",
    "511528",
    "511529",  # Yibin
    "510104",
    "510107",
    "510112",
    "510113",  # Chengdu
    "510502",
    "510521",
    "511102",
    "511302",
    "511602",
    "510302",
    "510722",
    "500101",
    "500103",
    "500112",
    "530102",
    "520102",
    "440304",
    "330106",
    "320106",
    "420102",
    "610113",
)

# Where the 两员 come from (来源单位): teachers, village and community cadres, township staff, volunteers.
STAFF_UNITS = [
    "镇中心小学",
    "村民委员会",
    "社区居民委员会",
    "镇人民政府",
    "镇卫生院",
    "区统计局",
    "区教育和体育局",
    "社会招聘",
    "大学生志愿者",
    "退休教师",
]

//! The demo workspace's people: teams, agents and organizations (fixed lists), and
//! customers (generated from name pools with the seeded [`Rng`]).
//!
//! All addresses use reserved domains (`example.com`, `.example`), so the demo can never
//! mail a real person.

use super::rng::Rng;
use kefu_domain::{Lang, Role, Segment};
use std::collections::HashSet;

pub const FRONTLINE: usize = 0;
pub const TECHNICAL: usize = 1;
pub const BILLING: usize = 2;
pub const COMPLAINTS: usize = 3;
pub const KEY_ACCOUNTS: usize = 4;

/// Teams, indexed by the constants above: (name, description).
pub const TEAMS: [(&str, &str); 5] = [
    (
        "一线服务 Frontline",
        "热线、在线客服与柜台：受理咨询、查询与投诉。Hotline, chat and counter: first contact.",
    ),
    (
        "技术支持 Technical",
        "设备故障诊断与维修。Device diagnosis and repair.",
    ),
    (
        "账务 Billing",
        "退款、发票与账单争议。Refunds, invoices and billing disputes.",
    ),
    (
        "投诉处理 Complaints",
        "投诉调查、回访与质量改进。Complaint investigation and follow-up.",
    ),
    (
        "大客户 Key accounts",
        "大客户与 VIP 的专属服务。Dedicated service for key accounts and VIPs.",
    ),
];

pub struct AgentSpec {
    pub name: &'static str,
    pub email: &'static str,
    pub role: Role,
    pub tier: u8,
    pub teams: &'static [usize],
    pub lang: Lang,
}

const fn agent(
    name: &'static str,
    email: &'static str,
    role: Role,
    tier: u8,
    teams: &'static [usize],
    lang: Lang,
) -> AgentSpec {
    AgentSpec {
        name,
        email,
        role,
        tier,
        teams,
        lang,
    }
}

use Lang::{En, ZhCn, ZhTw};
use Role::{Admin, Agent, ReadOnly, Supervisor};

/// The demo staff. Indices are used by [`super::logins`]; keep the first five in place.
#[rustfmt::skip]
pub const AGENTS: [AgentSpec; 15] = [
    agent("张伟", "admin@kefu.example", Admin, 4, &[FRONTLINE], ZhCn),
    agent("李娜", "li.na@kefu.example", Supervisor, 4, &[FRONTLINE, COMPLAINTS], ZhCn),
    agent("Emily Carter", "emily.carter@kefu.example", Supervisor, 3, &[TECHNICAL, KEY_ACCOUNTS], En),
    agent("王芳", "wang.fang@kefu.example", Agent, 1, &[FRONTLINE], ZhCn),
    agent("郑洁", "zheng.jie@kefu.example", ReadOnly, 4, &[COMPLAINTS], ZhCn),
    agent("刘洋", "liu.yang@kefu.example", Agent, 1, &[FRONTLINE], ZhCn),
    agent("陈静", "chen.jing@kefu.example", Agent, 1, &[FRONTLINE, BILLING], ZhCn),
    agent("Tom Baker", "tom.baker@kefu.example", Agent, 1, &[FRONTLINE], En),
    agent("林美玲", "lin.meiling@kefu.example", Agent, 1, &[FRONTLINE], ZhTw),
    agent("赵磊", "zhao.lei@kefu.example", Agent, 2, &[TECHNICAL], ZhCn),
    agent("Oliver Wright", "oliver.wright@kefu.example", Agent, 2, &[TECHNICAL], En),
    agent("孙丽", "sun.li@kefu.example", Agent, 2, &[BILLING], ZhCn),
    agent("周杰", "zhou.jie@kefu.example", Agent, 2, &[COMPLAINTS], ZhCn),
    agent("何敏", "he.min@kefu.example", Agent, 2, &[KEY_ACCOUNTS, BILLING], ZhCn),
    agent("吴强", "wu.qiang@kefu.example", Agent, 3, &[TECHNICAL], ZhCn),
];

pub struct OrgSpec {
    pub name: &'static str,
    pub domain: &'static str,
    pub segment: Segment,
    pub shares_tickets: bool,
    pub lang: Lang,
    pub tz: &'static str,
}

const fn org(
    name: &'static str,
    domain: &'static str,
    segment: Segment,
    shares_tickets: bool,
    lang: Lang,
    tz: &'static str,
) -> OrgSpec {
    OrgSpec {
        name,
        domain,
        segment,
        shares_tickets,
        lang,
        tz,
    }
}

const SH: &str = "Asia/Shanghai";
const TPE: &str = "Asia/Taipei";
const LON: &str = "Europe/London";
const NYC: &str = "America/New_York";

#[rustfmt::skip]
pub const ORGS: [OrgSpec; 12] = [
    org("华信科技有限公司", "huaxin.example.com", Segment::KeyAccount, true, ZhCn, SH),
    org("上海明远物流有限公司", "mingyuan-logistics.example.com", Segment::Vip, false, ZhCn, SH),
    org("北京青禾教育科技有限公司", "qinghe-edu.example.com", Segment::Standard, true, ZhCn, SH),
    org("深圳速达电子有限公司", "suda-electronics.example.com", Segment::Standard, false, ZhCn, SH),
    org("杭州云栖网络科技有限公司", "yunqi.example.com", Segment::Vip, true, ZhCn, SH),
    org("成都天府医疗集团", "tianfu-health.example.com", Segment::KeyAccount, true, ZhCn, SH),
    org("台北永豐貿易股份有限公司", "yongfeng-trading.example.com", Segment::Vip, false, ZhTw, TPE),
    org("新竹晶創科技股份有限公司", "jingchuang.example.com", Segment::Standard, false, ZhTw, TPE),
    org("Northwind Traders Ltd", "northwind.example.com", Segment::KeyAccount, true, En, LON),
    org("Harbour & Reed Solicitors LLP", "harbourreed.example.com", Segment::Standard, false, En, LON),
    org("Acme Consulting Group", "acme-consulting.example.com", Segment::Vip, false, En, NYC),
    org("Bluebird Logistics Inc.", "bluebird-logistics.example.com", Segment::Standard, false, En, NYC),
];

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSpec {
    pub name: String,
    /// How replies address them: the full Chinese name, or the English first name.
    pub greet: String,
    pub email: String,
    pub phone: Option<String>,
    pub org: Option<usize>,
    pub segment: Segment,
    pub lang: Lang,
    pub tz: &'static str,
    /// Has a portal password (the demo password).
    pub portal: bool,
}

// (characters, romanisation)
#[rustfmt::skip]
const CN_SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"),
    ("林", "lin"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
];
#[rustfmt::skip]
const CN_GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"), ("芳", "fang"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("晓明", "xiaoming"), ("子涵", "zihan"),
    ("浩然", "haoran"), ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("思远", "siyuan"), ("雨桐", "yutong"),
];
#[rustfmt::skip]
const TW_SURNAMES: &[(&str, &str)] = &[
    ("陳", "chen"), ("林", "lin"), ("黃", "huang"), ("張", "chang"), ("李", "lee"), ("王", "wang"),
    ("吳", "wu"), ("劉", "liu"), ("蔡", "tsai"), ("楊", "yang"), ("許", "hsu"), ("鄭", "cheng"),
];
#[rustfmt::skip]
const TW_GIVEN: &[(&str, &str)] = &[
    ("志明", "chihming"), ("淑芬", "shufen"), ("雅婷", "yating"), ("家豪", "chiahao"),
    ("怡君", "yichun"), ("俊傑", "chunchieh"), ("美玲", "meiling"), ("建宏", "chienhung"),
    ("宜蓁", "yichen"), ("冠宇", "kuanyu"), ("佩珊", "peishan"), ("承恩", "chengen"),
];
#[rustfmt::skip]
const EN_FIRST: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Emma", "Liam",
    "Olivia", "James", "Sophia", "William", "Charlotte", "Benjamin", "Grace", "Lucas", "Chloe",
    "Henry", "Ella", "Daniel", "Hannah",
];
#[rustfmt::skip]
const EN_LAST: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Miller", "Garcia", "Martinez", "Anderson",
];
const FREE_MAIL: &[&str] = &["example.com", "example.net", "example.org"];

#[expect(
    clippy::too_many_arguments,
    reason = "the fixed customers read best as positional rows"
)]
fn fixed(
    name: &str,
    greet: &str,
    email: &str,
    phone: Option<&str>,
    org: Option<usize>,
    segment: Segment,
    lang: Lang,
    tz: &'static str,
) -> CustomerSpec {
    CustomerSpec {
        name: name.into(),
        greet: greet.into(),
        email: email.into(),
        phone: phone.map(Into::into),
        org,
        segment,
        lang,
        tz,
        portal: true,
    }
}

/// `n` customers: three fixed portal users first (the first one is the demo login), then
/// generated ones, some in organizations, some with phones, a few with portal access.
pub fn generate_customers(rng: &mut Rng, n: usize) -> Vec<CustomerSpec> {
    let mut out = vec![
        fixed(
            "陈晓明",
            "陈晓明",
            "chen.xiaoming@huaxin.example.com",
            Some("+86 138 0013 8000"),
            Some(0),
            Segment::KeyAccount,
            ZhCn,
            SH,
        ),
        fixed(
            "Emma Wilson",
            "Emma",
            "emma.wilson@northwind.example.com",
            Some("+44 7700 900123"),
            Some(8),
            Segment::KeyAccount,
            En,
            LON,
        ),
        fixed(
            "林雅婷",
            "林雅婷",
            "yating.lin@example.net",
            None,
            None,
            Segment::Vip,
            ZhTw,
            TPE,
        ),
    ];
    out.truncate(n);
    let mut taken: HashSet<String> = out.iter().map(|c| c.email.clone()).collect();
    let org_weights: Vec<(usize, u32)> = ORGS
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                i,
                match o.segment {
                    Segment::KeyAccount => 14,
                    Segment::Vip => 9,
                    Segment::Standard => 6,
                },
            )
        })
        .collect();
    for i in out.len()..n {
        let org = rng.chance(60).then(|| rng.weighted(&org_weights));
        let (lang, tz, segment) = match org {
            Some(o) if rng.chance(92) => (ORGS[o].lang, ORGS[o].tz, ORGS[o].segment),
            _ => {
                let (lang, tz) = rng.weighted(&[
                    ((ZhCn, SH), 55),
                    ((ZhTw, TPE), 15),
                    ((En, LON), 12),
                    ((En, NYC), 18),
                ]);
                let segment = match org {
                    Some(o) => ORGS[o].segment,
                    None => rng.weighted(&[(Segment::Standard, 88), (Segment::Vip, 12)]),
                };
                (lang, tz, segment)
            }
        };
        let (name, greet, local) = person(rng, lang);
        let domain = match org {
            Some(o) => ORGS[o].domain,
            None => *rng.pick(FREE_MAIL),
        };
        let mut email = format!("{local}@{domain}");
        while !taken.insert(email.clone()) {
            email = format!("{local}{}@{domain}", rng.between(2, 99));
        }
        let phone = rng
            .chance(if lang == ZhCn { 60 } else { 35 })
            .then(|| phone(rng, tz));
        let portal = i % 60 == 7;
        out.push(CustomerSpec {
            name,
            greet,
            email,
            phone,
            org,
            segment,
            lang,
            tz,
            portal,
        });
    }
    out
}

/// (display name, greeting name, email local part) for a person speaking `lang`.
fn person(rng: &mut Rng, lang: Lang) -> (String, String, String) {
    match lang {
        En => {
            let first = *rng.pick(EN_FIRST);
            let last = *rng.pick(EN_LAST);
            let local = if rng.chance(70) {
                format!("{first}.{last}")
            } else {
                format!("{}{last}", &first[..1])
            };
            (
                format!("{first} {last}"),
                first.to_string(),
                local.to_lowercase(),
            )
        }
        ZhCn | ZhTw => {
            let (surnames, given) = if lang == ZhTw {
                (TW_SURNAMES, TW_GIVEN)
            } else {
                (CN_SURNAMES, CN_GIVEN)
            };
            let (s, s_py) = *rng.pick(surnames);
            let (g, g_py) = *rng.pick(given);
            let local = match rng.below(3) {
                0 => format!("{g_py}.{s_py}"),
                1 => format!("{s_py}{g_py}"),
                _ => format!("{s_py}.{g_py}{}", rng.digits(2)),
            };
            let name = format!("{s}{g}");
            (name.clone(), name, local)
        }
    }
}

/// A phone number from the fictional/drama ranges where they exist (UK 07700 900xxx,
/// US 555-01xx).
fn phone(rng: &mut Rng, tz: &str) -> String {
    match tz {
        TPE => format!(
            "+886 9{} {} {}",
            rng.digits(2),
            rng.digits(3),
            rng.digits(3)
        ),
        LON => format!("+44 7700 900{}", rng.digits(3)),
        NYC => format!("+1 {}-555-01{}", rng.between(201, 989), rng.digits(2)),
        _ => format!(
            "+86 1{}{} {} {}",
            rng.pick(&["38", "39", "50", "58", "86"]),
            rng.digits(1),
            rng.digits(4),
            rng.digits(4)
        ),
    }
}

//! The national region list (省 / 市 / 区县, the statistics bureau's codes, 2023 edition) that
//! address fields name their region from: the tree as the API serves it, and the lookup from a
//! code to its province, city and district names.
//!
//! The data (`data/regions-cn.json`) is `pca-code.json` of the `china-division` package 2.7.0
//! (modood/Administrative-divisions-of-China; MIT by its package.json, WTFPL by its LICENSE),
//! with Taiwan, Hong Kong and Macao added at the
//! province level under their statistical codes 71, 81 and 82.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::LazyLock;
use utoipa::ToSchema;

const DATA: &str = include_str!("../data/regions-cn.json");

/// One region with the regions inside it (a province's cities, a city's districts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Region {
    /// 2 digits for a province, 4 for a city, 6 for a district.
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<Region>,
}

/// Where a region code lies: the names of its province, city and district.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    pub province: String,
    /// `None` for a province, and for a city that is only a placeholder grouping
    /// ("省直辖县级行政区划"); a municipality's "市辖区" is named after the municipality.
    pub city: Option<String>,
    pub district: Option<String>,
}

struct Index {
    tree: Vec<Region>,
    /// code → (name, parent code)
    by_code: HashMap<String, (String, Option<String>)>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    // The file is part of the binary and checked by the tests: it always parses.
    let tree: Vec<Region> = serde_json::from_str(DATA).unwrap_or_default();
    let mut by_code = HashMap::new();
    fn walk(
        regions: &[Region],
        parent: Option<&str>,
        into: &mut HashMap<String, (String, Option<String>)>,
    ) {
        for r in regions {
            into.insert(r.code.clone(), (r.name.clone(), parent.map(str::to_string)));
            walk(&r.children, Some(&r.code), into);
        }
    }
    walk(&tree, None, &mut by_code);
    Index { tree, by_code }
});

/// The whole tree, provinces first.
pub fn tree() -> &'static [Region] {
    &INDEX.tree
}

/// Whether `code` names a region of the list.
pub fn is_known(code: &str) -> bool {
    INDEX.by_code.contains_key(code)
}

/// The names of the province, city and district a known code lies in.
pub fn place(code: &str) -> Option<Place> {
    let mut chain = Vec::new();
    let mut at = Some(code.to_string());
    while let Some(c) = at {
        let (name, parent) = INDEX.by_code.get(&c)?;
        chain.push(name.clone());
        at = parent.clone();
    }
    chain.reverse();
    let mut names = chain.into_iter();
    let province = names.next()?;
    let city = names.next().and_then(|city| match city.as_str() {
        "市辖区" => Some(province.clone()),
        c if c.ends_with("直辖县级行政区划") => None,
        _ => Some(city),
    });
    Some(Place {
        province,
        city,
        district: names.next(),
    })
}

/// The code of a region named by its province, city and district (the most specific one
/// found), as people write them: "上海" or "上海市", a municipality's city left out or named
/// after it, "杭州" for 杭州市. `None` when the province is not found.
pub fn code_for(province: &str, city: Option<&str>, district: Option<&str>) -> Option<String> {
    let same = |name: &str, wanted: &str| {
        let wanted = wanted.trim();
        !wanted.is_empty()
            && (name == wanted
                || name.strip_suffix(['省', '市']) == Some(wanted)
                || wanted.strip_suffix(['省', '市']) == Some(name))
    };
    let province = tree().iter().find(|p| same(&p.name, province))?;
    let cities: Vec<&Region> = match city {
        Some(c) => province
            .children
            .iter()
            .filter(|r| same(&r.name, c) || (r.name == "市辖区" && same(&province.name, c)))
            .collect(),
        None => province.children.iter().collect(),
    };
    if let Some(district) = district {
        for c in &cities {
            if let Some(d) = c.children.iter().find(|d| same(&d.name, district)) {
                return Some(d.code.clone());
            }
        }
    }
    match (city, cities.as_slice()) {
        (Some(_), [only, ..]) => Some(only.code.clone()),
        _ => Some(province.code.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_every_province_and_its_districts() {
        assert_eq!(tree().len(), 34);
        assert!(INDEX.by_code.len() > 3000);
        assert!(is_known("31") && is_known("3101") && is_known("310104"));
        assert!(!is_known("310199") && !is_known("") && !is_known("3"));
    }

    #[test]
    fn places_name_municipalities_and_placeholder_cities_sensibly() {
        let xuhui = place("310104").unwrap();
        assert_eq!(xuhui.province, "上海市");
        assert_eq!(xuhui.city.as_deref(), Some("上海市"));
        assert_eq!(xuhui.district.as_deref(), Some("徐汇区"));
        let hangzhou = place("3301").unwrap();
        assert_eq!(
            (
                hangzhou.province.as_str(),
                hangzhou.city.as_deref(),
                hangzhou.district
            ),
            ("浙江省", Some("杭州市"), None)
        );
        let jiyuan = place("419001").unwrap();
        assert_eq!(jiyuan.province, "河南省");
        assert_eq!(jiyuan.city, None);
        assert_eq!(jiyuan.district.as_deref(), Some("济源市"));
        assert_eq!(place("81").unwrap().province, "香港特别行政区");
        assert_eq!(
            code_for("上海市", Some("上海"), Some("徐汇区")).as_deref(),
            Some("310104")
        );
        assert_eq!(
            code_for("上海", None, Some("浦东新区")).as_deref(),
            Some("310115")
        );
        assert_eq!(
            code_for("浙江省", Some("杭州"), None).as_deref(),
            Some("3301")
        );
        assert_eq!(
            code_for("广东省", Some("深圳"), Some("南山区")).as_deref(),
            Some("440305")
        );
        assert_eq!(
            code_for("广东省", Some("无此市"), None).as_deref(),
            Some("44")
        );
        assert_eq!(code_for("Ontario", None, None), None);
        assert_eq!(place("99"), None);
    }
}

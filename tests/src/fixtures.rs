//! The one fixture builder of the test suite: a city of organizations, users, tokens, routing
//! rules and a chain, built over HTTP through the real API. Each test module asks for what it
//! needs instead of keeping its own set-up.
//!
//! ```ignore
//! let city = CityBuilder::new()
//!     .long_lived_tokens()
//!     .department("市工信局")
//!     .enterprise("南通某电子公司")
//!     .route("energy", 0)
//!     .build()
//!     .await;
//! ```

use crate::{TestApp, spawn_app_with};
use api::config::Settings;
use serde_json::json;

/// An organization and a token of one of its users (when it has one).
#[derive(Debug, Clone)]
pub struct Party {
    pub id: String,
    pub token: String,
}

/// A chain, its office, and the enterprises made members of it.
#[derive(Debug, Clone)]
pub struct ChainParty {
    pub id: String,
    pub office: Party,
}

/// What [`CityBuilder::build`] made.
pub struct City {
    pub app: TestApp,
    /// An admin token.
    pub admin: String,
    pub centre: Option<Party>,
    pub departments: Vec<Party>,
    pub enterprises: Vec<Party>,
    pub chain: Option<ChainParty>,
    /// Banks in the order added; each serves the chain in its role (`lead` or `partner`).
    pub banks: Vec<Party>,
    /// The fund office (资金主管部门), when the city has one.
    pub fund_office: Option<Party>,
}

struct Org {
    name: String,
    /// `None`: the harness's default contact address.
    contact: Option<String>,
    /// Whether it gets a user (and so a token).
    user: bool,
    /// The user's e-mail (`None`: `<username>@example.cn`).
    user_email: Option<String>,
    /// An enterprise kept out of the chain even when the chain takes every enterprise.
    outside_chain: bool,
}

impl Org {
    fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            contact: None,
            user: true,
            user_email: None,
            outside_chain: false,
        }
    }
}

struct ChainSpec {
    code: String,
    name: String,
    office: Org,
    /// Make every enterprise an active member.
    members: bool,
}

/// A change to the app's settings, applied before it starts.
type SettingsTweak = Box<dyn FnOnce(&mut Settings) + Send>;

/// Which organization was added last (what `contact` and `without_user` apply to).
#[derive(Clone, Copy)]
enum Slot {
    Centre,
    Department(usize),
    Enterprise(usize),
    Office,
    Bank(usize),
    FundOffice,
}

/// Builds a [`City`]; see the module's example.
#[derive(Default)]
pub struct CityBuilder {
    last: Option<Slot>,
    token_ttl_secs: Option<i64>,
    centre: Option<Org>,
    departments: Vec<Org>,
    enterprises: Vec<Org>,
    chain: Option<ChainSpec>,
    routes: Vec<(String, usize)>,
    settings: Vec<SettingsTweak>,
    /// Banks and their role in the chain (`lead`, `partner`).
    banks: Vec<(Org, String)>,
    fund_office: Option<Org>,
}

impl CityBuilder {
    /// An empty city: just the app and an admin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Access tokens that outlive the weeks a test moves the mock clock.
    pub fn long_lived_tokens(mut self) -> Self {
        self.token_ttl_secs = Some(366 * 24 * 3600);
        self
    }

    /// Adjusts the app's settings before it starts.
    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        self.settings.push(Box::new(tweak));
        self
    }

    /// A service centre with a user.
    pub fn centre(mut self, name: &str) -> Self {
        self.centre = Some(Org::new(name));
        self.last = Some(Slot::Centre);
        self
    }

    /// A department with a user (`departments[i]` in the order added).
    pub fn department(mut self, name: &str) -> Self {
        self.departments.push(Org::new(name));
        self.last = Some(Slot::Department(self.departments.len() - 1));
        self
    }

    /// A verified enterprise with a user (`enterprises[i]` in the order added).
    pub fn enterprise(mut self, name: &str) -> Self {
        self.enterprises.push(Org::new(name));
        self.last = Some(Slot::Enterprise(self.enterprises.len() - 1));
        self
    }

    /// The contact address of the organization added last.
    pub fn contact(mut self, address: &str) -> Self {
        if let Some(org) = self.last() {
            org.contact = Some(address.into());
        }
        self
    }

    /// The e-mail of the user of the organization added last (mail to the organization goes to
    /// its users' addresses first).
    pub fn user_email(mut self, address: &str) -> Self {
        if let Some(org) = self.last() {
            org.user_email = Some(address.into());
        }
        self
    }

    /// The organization added last gets no user (and no token).
    pub fn without_user(mut self) -> Self {
        if let Some(org) = self.last() {
            org.user = false;
        }
        self
    }

    /// A chain (code, name) run by a new office named `office`; with `members`, every
    /// enterprise (but those marked [`CityBuilder::outside_chain`]) is made an active member.
    pub fn chain(mut self, code: &str, name: &str, office: &str, members: bool) -> Self {
        self.chain = Some(ChainSpec {
            code: code.into(),
            name: name.into(),
            office: Org::new(office),
            members,
        });
        self.last = Some(Slot::Office);
        self
    }

    /// A bank with a user (`banks[i]` in the order added), serving the chain as `role` (`lead`
    /// or `partner`) when the city has a chain.
    pub fn bank(mut self, name: &str, role: &str) -> Self {
        self.banks.push((Org::new(name), role.into()));
        self.last = Some(Slot::Bank(self.banks.len() - 1));
        self
    }

    /// A fund office (资金主管部门) with a user.
    pub fn fund_office(mut self, name: &str) -> Self {
        self.fund_office = Some(Org::new(name));
        self.last = Some(Slot::FundOffice);
        self
    }

    /// The enterprise added last is not made a member of the chain (see [`CityBuilder::chain`]).
    pub fn outside_chain(mut self) -> Self {
        if let Some(org) = self.last() {
            org.outside_chain = true;
        }
        self
    }

    /// A routing rule: appeals of `category` go to `departments[department]`.
    pub fn route(mut self, category: &str, department: usize) -> Self {
        self.routes.push((category.into(), department));
        self
    }

    fn last(&mut self) -> Option<&mut Org> {
        match self.last? {
            Slot::Centre => self.centre.as_mut(),
            Slot::Department(i) => self.departments.get_mut(i),
            Slot::Enterprise(i) => self.enterprises.get_mut(i),
            Slot::Office => self.chain.as_mut().map(|c| &mut c.office),
            Slot::Bank(i) => self.banks.get_mut(i).map(|(o, _)| o),
            Slot::FundOffice => self.fund_office.as_mut(),
        }
    }

    /// Starts the app and creates everything over HTTP.
    pub async fn build(self) -> City {
        let ttl = self.token_ttl_secs;
        let tweaks = self.settings;
        let app = spawn_app_with(move |s| {
            if let Some(ttl) = ttl {
                s.access_token_ttl_secs = ttl;
            }
            for tweak in tweaks {
                tweak(s);
            }
        })
        .await;
        let admin = app.admin().await;
        let centre = match &self.centre {
            Some(org) => Some(party(&app, &admin, "service_center", org).await),
            None => None,
        };
        let mut departments = Vec::new();
        for org in &self.departments {
            departments.push(party(&app, &admin, "department", org).await);
        }
        let mut enterprises = Vec::new();
        for org in &self.enterprises {
            enterprises.push(party(&app, &admin, "enterprise", org).await);
        }
        let chain = match &self.chain {
            Some(spec) => {
                let office = party(&app, &admin, "chain_office", &spec.office).await;
                let id = app
                    .post(
                        "/chains",
                        &admin,
                        json!({"code": spec.code, "name": spec.name, "office_organization_id": office.id}),
                    )
                    .await
                    .expect(201)
                    .id();
                if spec.members {
                    let inside = enterprises
                        .iter()
                        .zip(&self.enterprises)
                        .filter(|(_, org)| !org.outside_chain)
                        .map(|(e, _)| e);
                    for e in inside {
                        app.put(
                            &format!("/chains/{id}/members/{}", e.id),
                            &admin,
                            json!({"role": "core"}),
                        )
                        .await
                        .expect(200);
                    }
                }
                Some(ChainParty { id, office })
            }
            None => None,
        };
        let mut banks = Vec::new();
        for (org, role) in &self.banks {
            let bank = party(&app, &admin, "bank", org).await;
            if let Some(chain) = &chain {
                app.put(
                    &format!("/chains/{}/banks/{}", chain.id, bank.id),
                    &admin,
                    json!({ "role": role }),
                )
                .await
                .expect(200);
            }
            banks.push(bank);
        }
        let fund_office = match &self.fund_office {
            Some(org) => Some(party(&app, &admin, "fund_office", org).await),
            None => None,
        };
        for (category, i) in &self.routes {
            app.put(
                &format!("/routing-rules/{category}"),
                &admin,
                json!({"department_id": departments[*i].id}),
            )
            .await
            .expect(200);
        }
        City {
            app,
            admin,
            centre,
            departments,
            enterprises,
            chain,
            banks,
            fund_office,
        }
    }
}

async fn party(app: &TestApp, admin: &str, kind: &str, org: &Org) -> Party {
    let id = app
        .create_org_with_contact(admin, kind, &org.name, org.contact.as_deref())
        .await;
    let token = if org.user {
        app.user_token_with_email(admin, kind, Some(&id), org.user_email.as_deref())
            .await
    } else {
        String::new()
    };
    Party { id, token }
}

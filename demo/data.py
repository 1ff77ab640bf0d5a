"""The demo Academy's data: the framework, programmes, partners, cohorts, names and roles that
``python manage.py seed_demo`` creates. Change the demo here; the command's code stays as it is."""

from partners.models import PartnerOrganisation

DEMO_PASSWORD = "academy-demo-2025"  # noqa: S105 - printed for everyone: a demo
SEED = 2023
SERVICE_LEARNERS = 45  # enrolled one by one through the services; the rest in bulk
BULK_GROUP_SIZE = 25
LEARNER_DOMAIN = "learners.example.org"
STAFF_GROUP = "Academy staff"
STAFF_APPS = ("academy", "partners", "programmes", "certificates", "portal", "account")

CORE_DOMAINS = [
    (
        "Research methods",
        "Asking a question that matters and choosing a fair way to answer it.",
        [
            "Turns a question that matters to their community into a research question.",
            "Chooses a way to collect information that suits the question, such as interviews, a survey or observation.",
            "Writes interview or survey questions that are clear and do not lead people to an answer.",
            "Tells the difference between evidence and opinion.",
        ],
    ),
    (
        "Ethics",
        "Treating the people who take part with care and respect.",
        [
            "Explains the research in plain words and obtains a person's informed consent before starting.",
            "Keeps people's personal information private and stored safely.",
            "Knows when to pause or stop an interview and where to point someone for support.",
            "Notices differences in power between researcher and participant and acts fairly.",
        ],
    ),
    (
        "Fieldwork strategies",
        "Planning and carrying out research safely out in the community.",
        [
            "Plans a fieldwork session: where, when, who to speak to and what to bring.",
            "Approaches people in the community and explains why the research matters to them.",
            "Keeps accurate, dated field notes.",
            "Follows the team's safety plan, including when working alone.",
        ],
    ),
    (
        "Coding and analysing data",
        "Making sense of what was collected.",
        [
            "Reads notes or transcripts and marks the ideas that come up again and again (coding).",
            "Groups codes into themes and checks them with the rest of the team.",
            "Enters data into a simple spreadsheet and checks it for mistakes.",
            "Draws a fair conclusion from the data and says how sure we can be of it.",
        ],
    ),
    (
        "Communication and dissemination",
        "Sharing what was found with the people who can use it.",
        [
            "Presents findings to a group in plain words.",
            "Writes a short summary of the findings for the people who will use them.",
            "Chooses a good way to share findings with residents, councillors or funders.",
        ],
    ),
    (
        "Team-working",
        "Doing research together with other citizen scientists, partners and academics.",
        [
            "Shares out tasks fairly and does what they agreed to do.",
            "Listens to others and gives helpful, kind feedback.",
            "Looks back on what went well and what to change next time.",
        ],
    ),
]

PARTNERS = [
    {
        "slug": "riverside-community-action",
        "name": "Riverside Community Action",
        "kind": PartnerOrganisation.Kind.VOLUNTARY_SECTOR,
        "contact_email": "hello@riverside-community-action.example.org",
        "short": "Riverside",
    },
    {
        "slug": "eastmoor-borough-council",
        "name": "Eastmoor Borough Council",
        "kind": PartnerOrganisation.Kind.LOCAL_AUTHORITY,
        "contact_email": "community.research@eastmoor.example.org",
        "short": "Eastmoor",
    },
    {
        "slug": "greenway-housing-association",
        "name": "Greenway Community Housing Association",
        "kind": PartnerOrganisation.Kind.OTHER,
        "contact_email": "residents@greenway-housing.example.org",
        "short": "Greenway",
    },
]

PROGRAMMES = [
    {
        "slug": "poverty-lived-experience",
        "title": "Researching poverty from lived experience",
        "summary": (
            "Learn to interview your neighbours about the cost of living and make sure their "
            "experience shapes local decisions. No research experience needed."
        ),
        "research_project": "Lived Experience of Poverty and Inequality",
        "research_project_url": "https://research.example.org/lived-experience-of-poverty",
        "certificate_wording": (
            "has shown the research and team-working competencies of a citizen social scientist "
            "on the Lived Experience of Poverty and Inequality project."
        ),
        "signatory_name": "Professor Amara Osei",
        "signatory_title": "Director, Citizen Science Academy",
        "partners": ["riverside-community-action", "eastmoor-borough-council"],
        "domains": [
            (
                "Peer interviewing",
                [
                    "Carries out a peer interview using the agreed topic guide.",
                    "Asks follow-up questions to understand someone's experience in their own words.",
                    "Looks after their own wellbeing after hearing difficult stories.",
                ],
            ),
            (
                "Analysing together",
                [
                    "Takes part in a group analysis session and adds their own insight.",
                    "Links what people said to the wider causes of poverty and inequality.",
                ],
            ),
        ],
    },
    {
        "slug": "community-air-quality",
        "title": "Mapping the air we breathe",
        "summary": (
            "Measure air pollution on your own streets with simple sensors, map it, and take the "
            "evidence to the people who can change it."
        ),
        "research_project": "Community Air-Quality Mapping",
        "research_project_url": "https://research.example.org/community-air-quality",
        "certificate_wording": (
            "has shown the research and team-working competencies of a citizen scientist on the "
            "Community Air-Quality Mapping project."
        ),
        "signatory_name": "Dr Rhys Llewellyn",
        "signatory_title": "Academic Lead, Community Air-Quality Mapping",
        "partners": ["eastmoor-borough-council", "greenway-housing-association"],
        "domains": [
            (
                "Using air-quality sensors",
                [
                    "Sets up a low-cost air-quality sensor correctly and safely.",
                    "Records each reading with the time, the place and the weather.",
                    "Spots readings that look wrong and says why.",
                ],
            ),
            (
                "Mapping",
                [
                    "Puts readings on a map of the neighbourhood.",
                    "Explains what the map shows and what it cannot show.",
                ],
            ),
        ],
    },
    {
        "slug": "local-food-insecurity",
        "title": "Food on our doorstep",
        "summary": (
            "Find out how easy it is for families near you to get healthy, affordable food, and "
            "help plan what should change."
        ),
        "research_project": "Local Food Insecurity",
        "research_project_url": "https://research.example.org/local-food-insecurity",
        "certificate_wording": (
            "has shown the research and team-working competencies of a citizen scientist on the "
            "Local Food Insecurity project."
        ),
        "signatory_name": "Professor Amara Osei",
        "signatory_title": "Director, Citizen Science Academy",
        "partners": ["riverside-community-action", "greenway-housing-association"],
        "domains": [
            (
                "Surveying the food environment",
                [
                    "Surveys shops, markets and food banks in a walking area using the survey form.",
                    "Records the price of a standard basket of food.",
                    "Notes how easy each place is to reach on foot or by bus.",
                ],
            ),
            (
                "Listening to households",
                [
                    "Holds a short kitchen-table conversation about food at home.",
                    "Keeps the conversation free of judgement and shame.",
                ],
            ),
        ],
    },
]

# (programme slug, partner slug, name, timing, venue)
COHORTS = [
    (
        "poverty-lived-experience",
        "riverside-community-action",
        "Riverside Tuesday evenings",
        "past",
        "Riverside Community Centre, Mill Lane",
    ),
    (
        "poverty-lived-experience",
        "riverside-community-action",
        "Riverside Saturday mornings",
        "current",
        "Riverside Community Centre, Mill Lane",
    ),
    (
        "poverty-lived-experience",
        "eastmoor-borough-council",
        "Eastmoor library group",
        "current",
        "Eastmoor Central Library, meeting room 2",
    ),
    (
        "community-air-quality",
        "eastmoor-borough-council",
        "Eastmoor town centre walkers",
        "past",
        "Eastmoor Town Hall, committee room B",
    ),
    (
        "community-air-quality",
        "greenway-housing-association",
        "Greenway estate sensor team",
        "current",
        "Greenway Estate community room, Ash Court",
    ),
    (
        "local-food-insecurity",
        "riverside-community-action",
        "Riverside food club",
        "current",
        "St Mark's Church Hall, Bridge Street",
    ),
    (
        "local-food-insecurity",
        "greenway-housing-association",
        "Greenway kitchen table",
        "upcoming",
        "Greenway Housing office, Station Road",
    ),
]
VENUES = {p["slug"]: next(c[4] for c in COHORTS if c[1] == p["slug"]) for p in PARTNERS}

# Which stage each learner reaches, by the timing of their cohort (cycled through in order).
STAGES = {
    "past": ["complete", "complete", "withdrawn", "complete", "part", "complete", "nearly"],
    "current": ["part", "invited", "complete", "part", "nearly", "active", "withdrawn", "part"],
    "upcoming": ["invited", "invited", "active", "invited"],
}

FIRST_NAMES = [
    "Aisha", "Amir", "Bethan", "Callum", "Chloe", "Daniel", "Deborah", "Eilidh", "Emeka", "Fatima",
    "Gareth", "Grace", "Hamza", "Hannah", "Imran", "Jade", "Jamal", "Joanne", "Kemi", "Liam",
    "Lucy", "Mariam", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Rosa", "Saira", "Samuel",
    "Siobhan", "Tariq", "Tomasz", "Una", "Victoria", "Wei", "Yasmin", "Zainab", "Zoë", "Kwame",
]  # fmt: skip
LAST_NAMES = [
    "Adeyemi", "Ahmed", "Begum", "Brown", "Campbell", "Chowdhury", "Clarke", "Davies", "Doherty",
    "Edwards", "Evans", "Fraser", "Green", "Hughes", "Hussain", "Jones", "Kaur", "Khan", "Kowalski",
    "Lewis", "Mensah", "Morgan", "Murphy", "Nowak", "O'Brien", "Okafor", "Patel", "Price",
    "Roberts", "Singh", "Smith", "Taylor", "Thomas", "Walker", "Williams", "Wilson", "Wright",
    "Yilmaz", "Zhang", "Ó Súilleabháin",
]  # fmt: skip

ROLE_USERS = [
    # key, email, full name, staff, superuser
    ("superuser", "admin@academy.example.org", "Alex Morgan", True, True),
    ("staff", "staff@academy.example.org", "Sam Okonjo", True, False),
    ("facilitator", "facilitator@academy.example.org", "Fiona Reid", False, False),
    ("coordinator", "coordinator@academy.example.org", "Chris Adebayo", False, False),
    ("viewer", "viewer@academy.example.org", "Val Thompson", False, False),
    ("learner", "learner@academy.example.org", "Jordan Ellis", False, False),
]
ROLE_DESCRIPTIONS = {
    "superuser": "superuser (everything in /admin/)",
    "staff": "Academy staff (runs the Academy in /admin/)",
    "facilitator": "facilitator of three cohorts",
    "coordinator": "partner coordinator, Riverside Community Action (/partners/)",
    "viewer": "partner viewer, Riverside Community Action (read only)",
    "learner": "citizen scientist: one programme complete, one part way",
}

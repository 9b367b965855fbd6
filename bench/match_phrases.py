"""Claims in German and Russian for bench/match_quality.py, made from English titles.

The synthetic titles (bench/synthetic.py) are a subject, a verb and an object naming a
country: each phrase is translated here, and a title is put together from them. The seed's
titles are translated whole. A title of neither kind has no translation. To extend the set,
add phrases (and countries) below.
"""

SUBJECTS = {
    "NATO": ("Die NATO", "НАТО"),
    "The West": ("Der Westen", "Запад"),
    "The EU": ("Die EU", "Евросоюз"),
    "The US": ("Die USA", "США"),
    "Washington": ("Washington", "Вашингтон"),
    "Brussels": ("Brüssel", "Брюссель"),
    "Kyiv": ("Kiew", "Киев"),
    "Warsaw": ("Warschau", "Варшава"),
    "The Baltic states": ("Die baltischen Staaten", "Прибалтика"),
    "London": ("London", "Лондон"),
    "Berlin": ("Berlin", "Берлин"),
    "Western intelligence": ("Westliche Geheimdienste", "Западные спецслужбы"),
    "Global elites": ("Globale Eliten", "Мировые элиты"),
    "The Pentagon": ("Das Pentagon", "Пентагон"),
    "George Soros": ("George Soros", "Джордж Сорос"),
    "Pharmaceutical companies": ("Pharmakonzerne", "Фармацевтические компании"),
    "Western media": ("Westliche Medien", "Западные СМИ"),
}
VERBS = {
    "is preparing": ("bereitet vor:", "готовит"),
    "secretly funds": ("finanziert heimlich", "тайно финансирует"),
    "staged": ("inszenierte", "инсценировал"),
    "provoked": ("provozierte", "спровоцировал"),
    "is planning": ("plant", "планирует"),
    "organised": ("organisierte", "организовал"),
    "wants to start": ("will beginnen:", "хочет начать"),
    "is behind": ("steckt hinter", "стоит за"),
    "covered up": ("vertuschte", "скрыл"),
    "is hiding": ("verheimlicht", "скрывает"),
    "invented": ("erfand", "выдумал"),
    "orchestrated": ("steuerte", "срежиссировал"),
    "will soon announce": ("wird bald verkünden:", "скоро объявит"),
    "financed": ("finanzierte", "финансировал"),
    "ordered": ("befahl", "заказал"),
}
OBJECTS = {
    "a coup in {c}": ("einen Putsch in {c}", "переворот в {c}"),
    "biolabs in {c}": ("Biolabore in {c}", "биолаборатории в {c}"),
    "a war against {c}": ("einen Krieg gegen {c}", "войну против {c}"),
    "the protests in {c}": ("die Proteste in {c}", "протесты в {c}"),
    "a colour revolution in {c}": ("eine Farbrevolution in {c}", "цветную революцию в {c}"),
    "the famine in {c}": ("die Hungersnot in {c}", "голод в {c}"),
    "a provocation at the border of {c}": (
        "eine Provokation an der Grenze von {c}",
        "провокацию на границе {c}",
    ),
    "chemical attacks in {c}": ("Chemieangriffe in {c}", "химические атаки в {c}"),
    "the energy crisis in {c}": ("die Energiekrise in {c}", "энергетический кризис в {c}"),
    "a genocide of Russians in {c}": (
        "einen Völkermord an Russen in {c}",
        "геноцид русских в {c}",
    ),
    "the occupation of {c}": ("die Besetzung von {c}", "оккупацию {c}"),
    "terrorist attacks in {c}": ("Terroranschläge in {c}", "теракты в {c}"),
    "elections in {c}": ("die Wahlen in {c}", "выборы в {c}"),
    "a migrant invasion of {c}": ("eine Migranteninvasion in {c}", "нашествие мигрантов в {c}"),
    "the collapse of {c}": ("den Zusammenbruch von {c}", "развал {c}"),
}
# Countries as a German and a Russian text would name them; others keep their English name.
COUNTRIES = {
    "Ukraine": ("der Ukraine", "Украине"),
    "Russia": ("Russland", "России"),
    "Belarus": ("Belarus", "Беларуси"),
    "Poland": ("Polen", "Польше"),
    "Lithuania": ("Litauen", "Литве"),
    "Latvia": ("Lettland", "Латвии"),
    "Estonia": ("Estland", "Эстонии"),
    "Georgia": ("Georgien", "Грузии"),
    "Moldova": ("Moldau", "Молдове"),
    "Germany": ("Deutschland", "Германии"),
    "France": ("Frankreich", "Франции"),
    "UK": ("Großbritannien", "Великобритании"),
    "US": ("den USA", "США"),
    "Kazakhstan": ("Kasachstan", "Казахстане"),
    "Armenia": ("Armenien", "Армении"),
    "Syria": ("Syrien", "Сирии"),
    "China": ("China", "Китае"),
    "EU": ("der EU", "ЕС"),
}
SEED = {
    "The ears of MI6 stick out from everything that happens in Kazakhstan": (
        "Hinter allem, was in Kasachstan passiert, steckt der britische MI6",
        "Уши МИ-6 торчат из всего, что происходит в Казахстане",
    ),
    "Lithuania has nothing to boast about compared to Soviet times": (
        "Litauen hat im Vergleich zur Sowjetzeit nichts, womit es prahlen könnte",
        "Литве нечем похвастаться по сравнению с советскими временами",
    ),
    "The West ordered terrorist attack in Kazakhstan to create hotbed at Russia’s border": (
        "Der Westen hat den Terroranschlag in Kasachstan bestellt, um an Russlands Grenze "
        "einen Brandherd zu schaffen",
        "Запад заказал теракт в Казахстане, чтобы создать очаг у границ России",
    ),
}


def translations(title):
    """[German claim, Russian claim] for an English title, or [] if it cannot be put."""
    if title in SEED:
        return list(SEED[title])
    for subject, (de_subject, ru_subject) in SUBJECTS.items():
        if not title.startswith(subject + " "):
            continue
        rest = title[len(subject) + 1 :]
        for verb, (de_verb, ru_verb) in VERBS.items():
            if not rest.startswith(verb + " "):
                continue
            obj = rest[len(verb) + 1 :]
            for pattern, (de_obj, ru_obj) in OBJECTS.items():
                head, _, tail = pattern.partition("{c}")
                if obj.startswith(head) and obj.endswith(tail):
                    country = obj[len(head) : len(obj) - len(tail)]
                    de_c, ru_c = COUNTRIES.get(country, (country, country))
                    return [
                        f"{de_subject} {de_verb} {de_obj.format(c=de_c)}",
                        f"{ru_subject} {ru_verb} {ru_obj.format(c=ru_c)}",
                    ]
    return []

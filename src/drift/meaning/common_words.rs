//! Common English words (written for promptdrift; by stem): a capitalised one that opens a
//! sentence ("Items can be returned", "Mix the flour") is not taken for a name.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The words, lowercase, any form (they are stemmed when the set is built).
const WORDS: &str = "
ability able about above accept access account across act action active activity actually add
address adjust admin advance advice affect after afternoon again against age agency agent ago agree
ahead aim air allow almost alone along already alternative although amount analysis analyze and
animal announce annual another answer anyone anything anyway apart app appear apple application
apply approach approve area argument arm around arrange arrive art article ask assess asset assign
assist assume attach attempt attend attention audience author auto available average avoid award
aware away baby back background backup bad bag bake balance ball band bank bar base basic basis
batch battery beach bear beat beautiful become bed before begin behavior behind believe benefit
best better between beyond big bill bit black blade block blog blood blue board boat body boil
book boost border both bottle bottom bound box brand bread break breakfast bridge brief bright
bring broad brown browser budget build building bus business busy button buy cache cake calculate
call calm camera camp campaign cancel cap capacity capital car card care career careful carry
case cash cat catch category cause cell center central certain chain chair challenge chance change
channel chapter character charge chart cheap check cheese chicken chief child choice choose chop
church circle citizen city claim class classic clean clear click client climate climb clock close
cloud club coach code coffee cold collect college color column combine come comfort command
comment common community company compare complete complex component compute concept concern
condition conduct configure confirm connect consider consist constant contact contain content
context continue contract control convert cook cookie cool copy core corner correct cost could
count country couple course court cover create credit crew crime critical cross crowd cultural
culture cup current customer cut cycle daily damage dance danger dark data database date daughter
day dead deal dear death debate debt decade decide decision declare decrease deep default defense
define degree delay delete deliver delivery demand deploy depend deposit describe design desk
detail detect determine develop device diet difference different difficult digital dinner direct
direction director disable discount discover discuss disease display distance divide doctor
document dog door double doubt down download draft drain draw dream dress drink drive drop dry due
during duty each early earn earth easy eat economic economy edge edit education effect effective
effort egg either election element else email emergency employee empty enable end energy engine
enjoy enough ensure enter entire entry environment equal error escape especially establish estimate
evaluate even evening event ever every evidence exact exam example exchange exercise exist expand
expect expensive experience expert explain export express extend extra eye face fact factor fail
fair faith fall family famous fan far farm fast father fault favorite fear feature fee feed feel
few field fight figure file fill film filter final finally finance find fine finger finish fire
firm first fish fit fix flat flight floor flour flow fly focus fold follow food foot force forest
forget form format forward free fresh friend front fruit fry full fun function fund future gain
game garden gas gate gather general generate get gift girl give glass global go goal gold good
government grade grant great green grill ground group grow growth guard guess guest guide gun hair
half hall hand handle hang happen happy hard head health hear heart heat heavy help high highlight
hire history hit hold hole holiday home hope horse hospital host hot hotel hour house however huge
human hundred husband idea identify image imagine impact import important improve include income
increase indeed index indicate individual industry info information initial input insert inside
install instance instead insurance interest internal international interview into introduce invest
invoice involve island issue item job join joint journey judge juice jump just keep key kick kid
kill kind kitchen knife know label labor lack lake land language large last late later laugh launch
law lawyer lay layer lead leader learn least leave left leg legal lemon length less lesson let
letter level library lie life lift light like likely limit line link list listen little live load
loan local location lock log long look loop lose loss lot loud love low lunch machine main maintain
major make male manage manager many map mark market marriage match material matter maximum meal
mean measure meat media medical meet meeting member memory mention menu merge message metal method
middle might mile military milk mind minimum minor minute miss mission mistake mix mode model modern
moment money monitor month mood more morning most mother motor mountain mouse mouth move movie much
music must name national natural nature near nearly necessary need network never new news next nice
night node normal north note notice now number nurse object observe obtain occur ocean offer office
officer often oil okay old once online only open operate operation opinion option orange order
organization original other otherwise outside oven over own owner pack package page pain paint pair
pan panel paper parent park part partner party pass password past patch path patient pattern pause
pay payment peace pen people pepper per percent perfect perform perhaps period permission person
personal phase phone photo physical pick picture piece place plan plane plant plastic plate play
player please plus pocket point police policy political pool poor popular port portion position
positive possible post pot potato pound pour power practice prefer prepare present president press
pretty prevent price primary print prior priority private problem process produce product
production professional profile program project promise proof proper property protect provide
public pull purchase purpose push put quality quarter question quick quiet quite race radio rain
raise range rate rather reach read ready real reason receive recent recipe record red reduce refer
refund region register regular relate release remain remember remind remote remove rent repair
repeat replace reply report request require research reserve reset resource respond response rest
restart restaurant restore result retail retain return review rice rich ride right ring rise risk
river road rock role roll room root rose round route row rule run safe salary sale salt same sample
sand save say scale scan schedule school science score screen script search season seat second
secret section secure security see seek select sell send senior sense sentence separate series
serve server service session set setting settle several shape share sharp shift ship shipping shoe
shop short should shoulder show shower side sign signal simple since single sister site size skill
skin sleep slice slow small smart smile smoke snow social soft software soil solution solve some
someone something sometimes son song soon sort sound soup source south space speak special speed
spend split sport spread spring square staff stage stand standard star start state station status
stay steal step stick still stock stop storage store story stream street strength stress stretch
strike string strong structure student study stuff style subject submit success suddenly sugar
suggest suit summer sun supply support sure surface survey switch system table tag take talk tank
target task taste tax tea teach teacher team technology tell temperature term test text thank
theory thing think third though thought through throw ticket tie time tip title today together
token tomorrow tone tool top topic total touch tour toward town track trade traffic train transfer
travel treat tree trend trial trip trouble truck true trust truth try turn type under understand
unit university unless until update upload upon use user usual usually valid value variable
various vary vehicle version very video view village visit voice volume vote wait walk wall want
war warm warn wash watch water wave way weak wear weather web website week weekend weight welcome
well west wet what whatever wheel when where whether while white whole why wide wife will win
window winner winter wish within without woman wonder wood word work worker world worry would write
writer wrong yard year yellow yes yesterday yet young zone
";

static STEMS: LazyLock<HashSet<String>> =
    LazyLock::new(|| WORDS.split_whitespace().map(super::canon::stem).collect());

/// Whether a lowercase word (any form) is a common English word.
pub(crate) fn is_common(word: &str) -> bool {
    STEMS.contains(&super::canon::stem(word)) || STEMS.contains(word)
}
